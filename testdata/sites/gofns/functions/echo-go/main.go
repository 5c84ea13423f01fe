// Returns the event fields the tests check, the worker's pid and its
// GOMAXPROCS.
package main

import (
	"context"
	"encoding/json"
	"os"
	"runtime"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	body, err := json.Marshal(map[string]any{
		"path":                  ev.Path,
		"httpMethod":            ev.HTTPMethod,
		"queryStringParameters": ev.QueryStringParameters,
		"body":                  ev.Body,
		"pid":                   os.Getpid(),
		"gomaxprocs":            runtime.GOMAXPROCS(0),
		"version":               "v1",
	})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}

func main() {
	lambda.Start(handler)
}
