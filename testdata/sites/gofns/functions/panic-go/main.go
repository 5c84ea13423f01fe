// Panics on every invocation.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	panic("panic-go always panics")
}

func main() {
	lambda.Start(handler)
}
