// Returns the 256 bytes 0x00..0xff, base64-encoded.
package main

import (
	"context"
	"encoding/base64"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return events.APIGatewayProxyResponse{
		StatusCode:      200,
		Headers:         map[string]string{"Content-Type": "application/octet-stream"},
		Body:            base64.StdEncoding.EncodeToString(b),
		IsBase64Encoded: true,
	}, nil
}

func main() {
	lambda.Start(handler)
}
