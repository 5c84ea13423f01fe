// A background function that logs two lines.
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, ev events.APIGatewayProxyRequest) error {
	fmt.Println("hello from go background")
	fmt.Println("got body " + ev.Body)
	return nil
}

func main() {
	lambda.Start(handler)
}
