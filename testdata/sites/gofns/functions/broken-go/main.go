// Does not compile: handler returns a string where an int is due.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	var status int = "two hundred"
	return events.APIGatewayProxyResponse{StatusCode: status}, nil
}

func main() {
	lambda.Start(handler)
}
