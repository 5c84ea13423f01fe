// Uses Netlify Blobs from Go, as a Go function on Netlify can: the event's
// blobs field (base64 JSON {url, token, ...}) and x-nf-site-id give the
// edge URL, token and site; ?key=K&value=V stores a value in the site
// store "go-store" and reads it back.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// event is the API Gateway request plus Netlify's blobs field.
type event struct {
	events.APIGatewayProxyRequest
	Blobs string `json:"blobs"`
}

func handler(ctx context.Context, ev event) (events.APIGatewayProxyResponse, error) {
	raw, err := base64.StdEncoding.DecodeString(ev.Blobs)
	if err != nil {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("event.blobs: %w", err)
	}
	var b struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("event.blobs: %w", err)
	}
	q := ev.QueryStringParameters
	u := b.URL + "/" + ev.Headers["x-nf-site-id"] + "/site:go-store/" + url.PathEscape(q["key"])
	do := func(method, body string) (string, int, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
		if err != nil {
			return "", 0, err
		}
		req.Header.Set("Authorization", "Bearer "+b.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", 0, err
		}
		defer res.Body.Close()
		got, err := io.ReadAll(res.Body)
		return string(got), res.StatusCode, err
	}
	if _, code, err := do(http.MethodPut, q["value"]); err != nil || code != 200 {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("put: status %d, %v", code, err)
	}
	got, code, err := do(http.MethodGet, "")
	if err != nil || code != 200 {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("get: status %d, %v", code, err)
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: got}, nil
}

func main() {
	lambda.Start(handler)
}
