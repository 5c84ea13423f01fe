package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// TestAbuse sends requests and returns answers far larger than usual. Each
// gets a correct answer or a clear 4xx/5xx, and the server answers a
// normal request right after.
func TestAbuse(t *testing.T) {
	sameQuery := strings.Repeat("a=1&", 100_000)
	var distinct strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&distinct, "k%d=v&", i)
	}
	nested := strings.Repeat("[", 3_000_000) + strings.Repeat("]", 3_000_000)
	headers := map[string]string{}
	for i := range 5000 {
		headers[fmt.Sprintf("x-h-%d", i)] = fmt.Sprintf("v%d", i)
	}
	manyHeaders, _ := json.Marshal(map[string]any{"statusCode": 200, "headers": headers, "body": "ok"})
	hugeBody, _ := json.Marshal(map[string]any{"statusCode": 200, "body": strings.Repeat("y", 8<<20)})
	objectBody := `{"statusCode":200,"body":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`

	tests := []struct {
		name       string
		method     string
		target     string
		header     map[string]string
		body       string
		response   string
		wantStatus int
		check      func(t *testing.T, ev Event, res response)
	}{
		{
			name:   "100,000 values of one query parameter",
			method: "GET", target: "/.netlify/functions/f?" + sameQuery,
			response: `{"statusCode":200}`, wantStatus: 200,
			check: func(t *testing.T, ev Event, _ response) {
				if n := len(ev.MultiValueQueryStringParameters["a"]); n != 100_000 {
					t.Errorf("function got %d values of a, want 100,000", n)
				}
			},
		},
		{
			name:   "100,000 query parameters",
			method: "GET", target: "/.netlify/functions/f?" + distinct.String(),
			response: `{"statusCode":200}`, wantStatus: 200,
			check: func(t *testing.T, ev Event, _ response) {
				if n := len(ev.QueryStringParameters); n != 100_000 || ev.QueryStringParameters["k99999"] != "v" {
					t.Errorf("function got %d parameters, want 100,000", n)
				}
			},
		},
		{
			// Go's server refuses a request head over 1 MB.
			name:   "a query string over 1 MB",
			method: "GET", target: "/.netlify/functions/f?" + strings.Repeat("key=value&", 120_000),
			response: `{"statusCode":200}`, wantStatus: http.StatusRequestHeaderFieldsTooLarge,
		},
		{
			name:   "6 MB of nested JSON arrays",
			method: "POST", target: "/.netlify/functions/f", header: map[string]string{"Content-Type": "application/json"}, body: nested,
			response: `{"statusCode":200}`, wantStatus: 200,
			check: func(t *testing.T, ev Event, _ response) {
				if ev.IsBase64Encoded || ev.Body == nil || *ev.Body != nested {
					t.Errorf("function did not get the body as sent")
				}
			},
		},
		{
			name:   "nested JSON over 6 MB",
			method: "POST", target: "/.netlify/functions/f", header: map[string]string{"Content-Type": "application/json"},
			body:     strings.Repeat("[", 3_200_000) + strings.Repeat("]", 3_200_000),
			response: `{"statusCode":200}`, wantStatus: http.StatusRequestEntityTooLarge,
			check: func(t *testing.T, _ Event, res response) {
				if !strings.Contains(res.body, "is over 6 MB") {
					t.Errorf("413 body %q does not name the limit", res.body)
				}
			},
		},
		{
			name:   "5,000 headers in the answer",
			method: "GET", target: "/.netlify/functions/f",
			response: string(manyHeaders), wantStatus: 200,
			check: func(t *testing.T, _ Event, res response) {
				n := 0
				for k := range res.header {
					if strings.HasPrefix(k, "X-H-") {
						n++
					}
				}
				if n != 5000 || res.header.Get("X-H-4999") != "v4999" {
					t.Errorf("client got %d of the function's headers, want 5,000", n)
				}
			},
		},
		{
			name:   "an 8 MB answer",
			method: "GET", target: "/.netlify/functions/f",
			response: string(hugeBody), wantStatus: 200,
			check: func(t *testing.T, _ Event, res response) {
				if len(res.body) != 8<<20 {
					t.Errorf("client got %d bytes, want 8 MB", len(res.body))
				}
			},
		},
		{
			name:   "a deeply nested object as the body",
			method: "GET", target: "/.netlify/functions/f",
			response: objectBody, wantStatus: 500,
			check: func(t *testing.T, _ Event, res response) {
				if !strings.HasPrefix(res.body, "Your function response must have a string or a stream body. You gave: [ [ [") || len(res.body) > 2000 {
					t.Errorf("500 body of %d bytes: %.200q, want a short message", len(res.body), res.body)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fn("f", discover.KindSync, func(context.Context, int, *runtime.Request) (*runtime.Result, error) {
				return &runtime.Result{Response: json.RawMessage(tt.response)}, nil
			})
			ok := fn("ok", discover.KindSync, respond(`{"statusCode":200,"body":"fine"}`))
			s, _ := newServer(t, testOptions{}, f, ok)
			url := serve(t, s)
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			res := do(t, tt.method, url+tt.target, body, tt.header)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %.200q)", res.status, tt.wantStatus, res.body)
			}
			if tt.check != nil {
				var ev Event
				if calls := invoker(f).Calls(); len(calls) > 0 {
					ev = calls[0].event
				}
				tt.check(t, ev, res)
			}
			if after := do(t, "GET", url+"/.netlify/functions/ok", nil, nil); after.status != 200 || after.body != "fine" {
				t.Errorf("the next request got %d %q, want 200 fine", after.status, after.body)
			}
		})
	}
}
