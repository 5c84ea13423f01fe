package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/runtime"
)

func TestToReply(t *testing.T) {
	tests := []struct {
		name       string
		res        *runtime.Result
		wantErr    string // exact message; "" for success
		wantPrefix bool   // wantErr is a prefix
		wantStatus int
		wantHeader http.Header // exact
		wantBody   string
	}{
		{
			name:    "undefined",
			res:     &runtime.Result{Undefined: true},
			wantErr: "lambda response was undefined. check your function code again",
		},
		{
			name:    "null",
			res:     &runtime.Result{Response: json.RawMessage(`null`)},
			wantErr: "no lambda response. check your function code again. make sure to return a promise or use the callback.",
		},
		{
			name:    "empty response",
			res:     &runtime.Result{},
			wantErr: "no lambda response. check your function code again. make sure to return a promise or use the callback.",
		},
		{
			name:    "missing statusCode",
			res:     &runtime.Result{Response: json.RawMessage(`{"body":"hi"}`)},
			wantErr: "Your function response must have a numerical statusCode. You gave: undefined",
		},
		{
			name:    "a string instead of an object",
			res:     &runtime.Result{Response: json.RawMessage(`"hello"`)},
			wantErr: "Your function response must have a numerical statusCode. You gave: undefined",
		},
		{
			name:    "statusCode zero",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":0}`)},
			wantErr: "Your function response must have a numerical statusCode. You gave: 0",
		},
		{
			name:    "statusCode null",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":null}`)},
			wantErr: "Your function response must have a numerical statusCode. You gave: null",
		},
		{
			name:    "statusCode not numeric",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":"ok"}`)},
			wantErr: "Your function response must have a numerical statusCode. You gave: 'ok'",
		},
		{
			name:    "statusCode an object",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":{"code":200}}`)},
			wantErr: "Your function response must have a numerical statusCode. You gave: { code: 200 }",
		},
		{
			name:       "statusCode string 200",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":"200","body":"ok"}`)},
			wantStatus: 200,
			wantHeader: http.Header{},
			wantBody:   "ok",
		},
		{
			name:       "minimal",
			res:        &runtime.Result{Response: json.RawMessage(` {"statusCode":204} `)},
			wantStatus: 204,
			wantHeader: http.Header{},
		},
		{
			name:       "null body is empty",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":null}`)},
			wantStatus: 200,
			wantHeader: http.Header{},
		},
		{
			name:    "number body",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":42}`)},
			wantErr: "Your function response must have a string or a stream body. You gave: 42",
		},
		{
			name:    "object body",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":{"a":1,"b":"x"}}`)},
			wantErr: "Your function response must have a string or a stream body. You gave: { a: 1, b: 'x' }",
		},
		{
			name:    "array body",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":[1,"x"]}`)},
			wantErr: "Your function response must have a string or a stream body. You gave: [ 1, 'x' ]",
		},
		{
			name:       "base64 body decoded",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":"AP8Q","isBase64Encoded":true}`)},
			wantStatus: 200,
			wantHeader: http.Header{},
			wantBody:   "\x00\xff\x10",
		},
		{
			name:       "base64 flag off keeps the text",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":"AP8Q","isBase64Encoded":false}`)},
			wantStatus: 200,
			wantHeader: http.Header{},
			wantBody:   "AP8Q",
		},
		{
			name:       "invalid base64",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"body":"not base64!","isBase64Encoded":true}`)},
			wantErr:    "Your function response has isBase64Encoded set but its body is not valid base64: ",
			wantPrefix: true,
		},
		{
			name: "headers: strings, numbers, booleans and arrays",
			res: &runtime.Result{Response: json.RawMessage(`{"statusCode":201,"headers":{
				"content-type":"text/plain","x-num":42,"x-float":1.5,"x-bool":true,"x-arr":["a",2]}}`)},
			wantStatus: 201,
			wantHeader: http.Header{
				"Content-Type": {"text/plain"}, "X-Num": {"42"}, "X-Float": {"1.5"}, "X-Bool": {"true"}, "X-Arr": {"a", "2"},
			},
		},
		{
			name: "multiValueHeaders win over headers",
			res: &runtime.Result{Response: json.RawMessage(`{"statusCode":200,
				"headers":{"x-both":"single","x-only-single":"s"},
				"multiValueHeaders":{"X-Both":["m1","m2"],"set-cookie":["a=1","b=2"]}}`)},
			wantStatus: 200,
			wantHeader: http.Header{"X-Both": {"m1", "m2"}, "X-Only-Single": {"s"}, "Set-Cookie": {"a=1", "b=2"}},
		},
		{
			name:    "header value with a newline",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"x-bad":"a\nb"}}`)},
			wantErr: `Failed to set header "X-Bad": invalid header name or value`,
		},
		{
			name:    "multi header value with a carriage return",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"multiValueHeaders":{"x-bad":["ok","a\rb"]}}`)},
			wantErr: `Failed to set header "X-Bad": invalid header name or value`,
		},
		{
			// Node's setHeader rejects any control character but tab
			// (ERR_INVALID_CHAR), not only CR and LF.
			name:    "header value with a NUL byte",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"x-bad":"a\u0000b"}}`)},
			wantErr: `Failed to set header "X-Bad": invalid header name or value`,
		},
		{
			name:    "invalid header name",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"bad name":"v"}}`)},
			wantErr: `Failed to set header "bad name": invalid header name or value`,
		},
		{
			name:       "null header value",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"x-null":null}}`)},
			wantErr:    `Failed to set header "x-null": `,
			wantPrefix: true,
		},
		{
			name:       "object header value",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"x-obj":{"a":1}}}`)},
			wantErr:    `Failed to set header "x-obj": `,
			wantPrefix: true,
		},
		{
			name:    "status out of range",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":99}`)},
			wantErr: "Your function response must have a valid HTTP statusCode. You gave: 99",
		},
		{
			// Found by FuzzResponseReply: Go's server sent a 103 and then a 200.
			name:    "informational status",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":103,"headers":{"link":"</a>; rel=preload"}}`)},
			wantErr: "Your function response must have a final HTTP statusCode (200 to 999); 103 is an informational status that cannot answer a request",
		},
		{
			// Found by FuzzResponseReply: "gzip" went out next to Go's own
			// "chunked", and no client could read the answer.
			name:       "Transfer-Encoding is not the function's",
			res:        &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"transfer-encoding":"gzip","x-a":"1"},"body":"abc"}`)},
			wantStatus: 200,
			wantHeader: http.Header{"X-A": {"1"}},
			wantBody:   "abc",
		},
		{
			name:    "two bad headers: the first in order is named",
			res:     &runtime.Result{Response: json.RawMessage(`{"statusCode":200,"headers":{"x-b":"\n","x-a":"\u0000"}}`)},
			wantErr: `Failed to set header "X-A": invalid header name or value`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := toReply(tt.res)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("toReply = %+v, want error %q", rep, tt.wantErr)
				}
				var re *responseError
				if !errors.As(err, &re) {
					t.Errorf("error %T, want *responseError", err)
				}
				if tt.wantPrefix && !strings.HasPrefix(err.Error(), tt.wantErr) || !tt.wantPrefix && err.Error() != tt.wantErr {
					t.Errorf("error = %q, want %q", err, tt.wantErr)
				}
				// The client and terminal see the message as is.
				if fe := functionError(err); fe.Trace() != err.Error() {
					t.Errorf("500 body = %q, want %q", fe.Trace(), err.Error())
				}
				return
			}
			if err != nil {
				t.Fatalf("toReply: %v", err)
			}
			if rep.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", rep.status, tt.wantStatus)
			}
			if !reflect.DeepEqual(rep.header, tt.wantHeader) {
				t.Errorf("header = %v, want %v", rep.header, tt.wantHeader)
			}
			if string(rep.body) != tt.wantBody {
				t.Errorf("body = %q, want %q", rep.body, tt.wantBody)
			}
		})
	}
}

// TestReplyContentLength: the body frames the answer. Found by
// FuzzResponseReply: a function's Content-Length that was shorter than the
// body made Go's server send no body, and two of them an answer no client
// reads.
func TestReplyContentLength(t *testing.T) {
	tests := []struct {
		name   string
		header []string // the function's Content-Length values
		body   string
		method string
		want   string
	}{
		{name: "none", body: "abc", method: "GET", want: "3"},
		{name: "shorter than the body", header: []string{"2"}, body: "abcdef", method: "GET", want: "6"},
		{name: "longer than the body", header: []string{"100"}, body: "abc", method: "GET", want: "3"},
		{name: "two values", header: []string{"3", "30"}, body: "abc", method: "GET", want: "3"},
		{name: "HEAD keeps the function's", header: []string{"100"}, method: "HEAD", want: "100"},
		{name: "HEAD with a bad value", header: []string{"-3"}, body: "abc", method: "HEAD", want: "3"},
		{name: "HEAD with two values", header: []string{"1", "2"}, body: "ab", method: "HEAD", want: "2"},
		{name: "HEAD with spaces", header: []string{" 3 "}, method: "HEAD", want: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &reply{status: 200, header: http.Header{}, body: []byte(tt.body)}
			if tt.header != nil {
				rep.header["Content-Length"] = tt.header
			}
			if got := rep.contentLength(tt.method); got != tt.want {
				t.Errorf("contentLength(%s) = %q, want %q", tt.method, got, tt.want)
			}
		})
	}
}
