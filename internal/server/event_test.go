package server

import (
	"encoding/base64"
	"encoding/json"
	"maps"

	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type header struct{ k, v string }

func TestNewEvent(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		host       string
		remoteAddr string
		headers    []header
		body       string

		wantPath    string
		wantHeaders map[string]string   // a subset of event.headers
		wantMulti   map[string][]string // a subset of event.multiValueHeaders
		noHeaders   []string            // absent from both
		wantQuery   map[string]string   // all of queryStringParameters
		wantMultiQ  map[string][]string // all of multiValueQueryStringParameters
		wantBody    *string
		wantB64     bool
		wantRawURL  string
		wantRawQ    string
	}{
		{
			name:       "GET without body",
			method:     "GET",
			target:     "/.netlify/functions/hello",
			host:       "localhost:8888",
			remoteAddr: "127.0.0.1:51000",
			wantPath:   "/.netlify/functions/hello",
			wantHeaders: map[string]string{
				"host":                      "localhost:8888",
				"client-ip":                 "127.0.0.1",
				"x-nf-client-connection-ip": "127.0.0.1",
				"x-nf-account-id":           "",
				"x-nf-site-id":              "site-1",
				"x-nf-request-id":           "req-1",
				"x-nf-deploy-context":       "dev",
				"x-nf-deploy-id":            "0",
				"x-nf-geo":                  mockGeo,
			},
			wantMulti:  map[string][]string{"host": {"localhost:8888"}, "client-ip": {"127.0.0.1"}},
			wantQuery:  map[string]string{},
			wantMultiQ: map[string][]string{},
			wantB64:    true, // no content type counts as binary
			wantRawURL: "http://localhost:8888/.netlify/functions/hello",
		},
		{
			name:   "header names lower-cased",
			method: "GET",
			target: "/.netlify/functions/hello",
			headers: []header{
				{"X-Custom-Thing", "Value Kept"},
				{"ACCEPT", "text/plain"},
				{"user-agent", "test/1"},
			},
			wantHeaders: map[string]string{"x-custom-thing": "Value Kept", "accept": "text/plain", "user-agent": "test/1"},
			wantMulti:   map[string][]string{"x-custom-thing": {"Value Kept"}},
			noHeaders:   []string{"X-Custom-Thing", "Accept"},
			wantB64:     true,
		},
		{
			name:   "multi-value headers",
			method: "GET",
			target: "/.netlify/functions/hello",
			headers: []header{
				{"Set-Cookie", "a=1"},
				{"Set-Cookie", "b=2"},
				{"X-Multi", "one"},
				{"X-Multi", "two, three"},
			},
			wantHeaders: map[string]string{"set-cookie": "a=1, b=2", "x-multi": "one, two, three"},
			wantMulti:   map[string][]string{"set-cookie": {"a=1", "b=2"}, "x-multi": {"one", "two, three"}},
			wantB64:     true,
		},
		{
			name:   "internal routing headers removed",
			method: "GET",
			target: "/.netlify/functions/hello",
			headers: []header{
				{"X-Nf-Function-Name", "other"},
				{"X-Nf-Function-Route", "/r"},
				{"X-Netlify-Original-Pathname", "/orig"},
				{"X-Netlify-Original-Search", "?q"},
			},
			noHeaders: []string{"x-nf-function-name", "x-nf-function-route", "x-netlify-original-pathname", "x-netlify-original-search"},
			wantB64:   true,
		},
		{
			name:    "client headers cannot spoof the request id or site",
			method:  "GET",
			target:  "/.netlify/functions/hello",
			headers: []header{{"X-Nf-Request-Id", "spoofed"}, {"X-Nf-Site-Id", "spoofed"}, {"Client-Ip", "6.6.6.6"}},
			wantHeaders: map[string]string{
				"x-nf-request-id": "req-1", "x-nf-site-id": "site-1", "client-ip": "192.0.2.1",
			},
			wantMulti: map[string][]string{"x-nf-request-id": {"req-1"}, "client-ip": {"192.0.2.1"}},
			wantB64:   true,
		},
		{
			name:        "client ip from the last X-Forwarded-For element",
			method:      "GET",
			target:      "/.netlify/functions/hello",
			remoteAddr:  "127.0.0.1:5000",
			headers:     []header{{"X-Forwarded-For", "203.0.113.9, 10.0.0.1,  198.51.100.7 "}},
			wantHeaders: map[string]string{"client-ip": "198.51.100.7", "x-nf-client-connection-ip": "198.51.100.7", "x-forwarded-for": "203.0.113.9, 10.0.0.1,  198.51.100.7 "},
			wantB64:     true,
		},
		{
			name:        "client ip from a single X-Forwarded-For",
			method:      "GET",
			target:      "/.netlify/functions/hello",
			headers:     []header{{"X-Forwarded-For", "203.0.113.9"}},
			wantHeaders: map[string]string{"client-ip": "203.0.113.9"},
			wantB64:     true,
		},
		{
			// Node joins repeated X-Forwarded-For lines with ", " before
			// netlify-cli takes the last element (reference §4).
			name:        "client ip from the last of several X-Forwarded-For lines",
			method:      "GET",
			target:      "/.netlify/functions/hello",
			headers:     []header{{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-For", "198.51.100.7"}},
			wantHeaders: map[string]string{"client-ip": "198.51.100.7", "x-forwarded-for": "203.0.113.9, 198.51.100.7"},
			wantB64:     true,
		},
		{
			name:        "client ip from an IPv6 remote address",
			method:      "GET",
			target:      "/.netlify/functions/hello",
			remoteAddr:  "[::1]:61000",
			wantHeaders: map[string]string{"client-ip": "::1", "x-nf-client-connection-ip": "::1"},
			wantB64:     true,
		},
		{
			name:        "client ip from a remote address without a port",
			method:      "GET",
			target:      "/.netlify/functions/hello",
			remoteAddr:  "10.1.2.3",
			wantHeaders: map[string]string{"client-ip": "10.1.2.3"},
			wantB64:     true,
		},
		{
			name:       "query parameters",
			method:     "GET",
			target:     "/.netlify/functions/hello?a=1&b=x%20y&a=2&c&d=&e=p+q&f=%26%3D",
			host:       "example.test",
			wantQuery:  map[string]string{"a": "1, 2", "b": "x y", "c": "", "d": "", "e": "p q", "f": "&="},
			wantMultiQ: map[string][]string{"a": {"1", "2"}, "b": {"x y"}, "c": {""}, "d": {""}, "e": {"p q"}, "f": {"&="}},
			wantB64:    true,
			wantRawURL: "http://example.test/.netlify/functions/hello?a=1&b=x%20y&a=2&c&d=&e=p+q&f=%26%3D",
			wantRawQ:   "a=1&b=x%20y&a=2&c&d=&e=p+q&f=%26%3D",
		},
		{
			// Node's querystring keeps what it cannot decode as is and
			// keeps the other parameters (reference §4: Express "simple"
			// query parser).
			name:       "a malformed escape keeps the other parameters",
			method:     "GET",
			target:     "/.netlify/functions/hello?a=1&b=%zz",
			wantQuery:  map[string]string{"a": "1", "b": "%zz"},
			wantMultiQ: map[string][]string{"a": {"1"}, "b": {"%zz"}},
			wantB64:    true,
			wantRawQ:   "a=1&b=%zz",
		},
		{
			// Node's querystring splits on & only.
			name:       "a semicolon is part of the value",
			method:     "GET",
			target:     "/.netlify/functions/hello?a=1;b=2&c=3",
			wantQuery:  map[string]string{"a": "1;b=2", "c": "3"},
			wantMultiQ: map[string][]string{"a": {"1;b=2"}, "c": {"3"}},
			wantB64:    true,
			wantRawQ:   "a=1;b=2&c=3",
		},
		{
			// Caught by FuzzRequestEvent's round trip: %FF and %FE used to
			// stay two keys that both encode as "\ufffd", so one was lost.
			name:       "query keys that are not UTF-8 merge as U+FFFD",
			method:     "GET",
			target:     "/.netlify/functions/hello?%FF=a&%FE=b&v=%C3",
			wantQuery:  map[string]string{"\ufffd": "a, b", "v": "\ufffd"},
			wantMultiQ: map[string][]string{"\ufffd": {"a", "b"}, "v": {"\ufffd"}},
			wantB64:    true,
			wantRawQ:   "%FF=a&%FE=b&v=%C3",
		},
		{
			name:       "sub path and escaped path",
			method:     "GET",
			target:     "/.netlify/functions/hello/a%20b/c",
			host:       "localhost:9999",
			wantPath:   "/.netlify/functions/hello/a%20b/c",
			wantB64:    true,
			wantRawURL: "http://localhost:9999/.netlify/functions/hello/a%20b/c",
		},
		{
			name:     "JSON body as text",
			method:   "POST",
			target:   "/.netlify/functions/hello",
			headers:  []header{{"Content-Type", "application/json"}},
			body:     `{"a":"<b>&"}`,
			wantBody: ptr(`{"a":"<b>&"}`),
		},
		{
			name:     "JSON with charset as text",
			method:   "POST",
			target:   "/.netlify/functions/hello",
			headers:  []header{{"Content-Type", "application/json; charset=utf-8"}},
			body:     `{}`,
			wantBody: ptr(`{}`),
		},
		{
			name:     "text body",
			method:   "PUT",
			target:   "/.netlify/functions/hello",
			headers:  []header{{"Content-Type", "text/plain"}},
			body:     "héllo\n",
			wantBody: ptr("héllo\n"),
		},
		{
			name:     "form body as text",
			method:   "POST",
			target:   "/.netlify/functions/hello",
			headers:  []header{{"Content-Type", "application/x-www-form-urlencoded"}},
			body:     "a=1&b=2",
			wantBody: ptr("a=1&b=2"),
		},
		{
			name:     "multipart body base64",
			method:   "POST",
			target:   "/.netlify/functions/hello",
			headers:  []header{{"Content-Type", "multipart/form-data; boundary=xyz"}},
			body:     "--xyz\r\n\r\nv\r\n--xyz--\r\n",
			wantBody: ptr(base64.StdEncoding.EncodeToString([]byte("--xyz\r\n\r\nv\r\n--xyz--\r\n"))),
			wantB64:  true,
		},
		{
			name:     "binary body base64",
			method:   "POST",
			target:   "/.netlify/functions/hello",
			headers:  []header{{"Content-Type", "application/octet-stream"}},
			body:     "\x00\xff\x10",
			wantBody: ptr("AP8Q"),
			wantB64:  true,
		},
		{
			name:     "body without content type base64",
			method:   "POST",
			target:   "/.netlify/functions/hello",
			body:     "raw",
			wantBody: ptr("cmF3"),
			wantB64:  true,
		},
		{
			name:    "POST with empty body has no body",
			method:  "POST",
			target:  "/.netlify/functions/hello",
			headers: []header{{"Content-Type", "application/json"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.host != "" {
				r.Host = tt.host
			}
			if tt.remoteAddr != "" {
				r.RemoteAddr = tt.remoteAddr
			}
			for _, h := range tt.headers {
				r.Header.Add(h.k, h.v)
			}
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			ev := newEvent(r, body, "req-1", "site-1")

			if ev.HTTPMethod != tt.method {
				t.Errorf("httpMethod = %q, want %q", ev.HTTPMethod, tt.method)
			}
			if tt.wantPath != "" && ev.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", ev.Path, tt.wantPath)
			}
			for k, v := range tt.wantHeaders {
				if got, ok := ev.Headers[k]; !ok || got != v {
					t.Errorf("headers[%q] = %q (present %v), want %q", k, got, ok, v)
				}
			}
			for k, v := range tt.wantMulti {
				if got := ev.MultiValueHeaders[k]; !slices.Equal(got, v) {
					t.Errorf("multiValueHeaders[%q] = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.noHeaders {
				if _, ok := ev.Headers[k]; ok {
					t.Errorf("headers has %q, want it absent", k)
				}
				if _, ok := ev.MultiValueHeaders[k]; ok {
					t.Errorf("multiValueHeaders has %q, want it absent", k)
				}
			}
			for k := range ev.Headers {
				if k != strings.ToLower(k) {
					t.Errorf("header name %q is not lower-case", k)
				}
				if _, ok := ev.MultiValueHeaders[k]; !ok {
					t.Errorf("headers[%q] has no multiValueHeaders entry", k)
				}
			}
			if tt.wantQuery != nil && !maps.Equal(ev.QueryStringParameters, tt.wantQuery) {
				t.Errorf("queryStringParameters = %q, want %q", ev.QueryStringParameters, tt.wantQuery)
			}
			if tt.wantMultiQ != nil && !reflect.DeepEqual(ev.MultiValueQueryStringParameters, tt.wantMultiQ) {
				t.Errorf("multiValueQueryStringParameters = %q, want %q", ev.MultiValueQueryStringParameters, tt.wantMultiQ)
			}
			switch {
			case tt.wantBody == nil && ev.Body != nil:
				t.Errorf("body = %q, want none", *ev.Body)
			case tt.wantBody != nil && ev.Body == nil:
				t.Errorf("body absent, want %q", *tt.wantBody)
			case tt.wantBody != nil && *ev.Body != *tt.wantBody:
				t.Errorf("body = %q, want %q", *ev.Body, *tt.wantBody)
			}
			if ev.IsBase64Encoded != tt.wantB64 {
				t.Errorf("isBase64Encoded = %v, want %v", ev.IsBase64Encoded, tt.wantB64)
			}
			if tt.wantRawURL != "" && ev.RawURL != tt.wantRawURL {
				t.Errorf("rawUrl = %q, want %q", ev.RawURL, tt.wantRawURL)
			}
			if ev.RawQuery != tt.wantRawQ {
				t.Errorf("rawQuery = %q, want %q", ev.RawQuery, tt.wantRawQ)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestEventJSON checks the field names functions see and that an absent
// body is a missing key, not null.
func TestEventJSON(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		body     string
		wantBody bool
	}{
		{name: "GET", method: "GET"},
		{name: "POST", method: "POST", body: `{"x":"<&>"}`, wantBody: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/.netlify/functions/hello?q=1", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			raw := appendEvent(nil, newEvent(r, body, "id", "site"))
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			want := []string{"path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
				"multiValueQueryStringParameters", "isBase64Encoded", "rawUrl", "rawQuery", "resource", "requestContext"}
			if tt.wantBody {
				want = append(want, "body")
			}
			got := slices.Sorted(maps.Keys(m))
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("event keys = %v, want %v", got, want)
			}
			if tt.wantBody && !strings.Contains(string(raw), `"body":"{\"x\":\"<&>\"}"`) {
				t.Errorf("body is HTML-escaped or altered in %s", raw)
			}
		})
	}
	t.Run("empty query maps are objects", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/.netlify/functions/hello", nil)
		raw := appendEvent(nil, newEvent(r, nil, "id", "site"))
		for _, want := range []string{`"queryStringParameters":{}`, `"multiValueQueryStringParameters":{}`, `"rawQuery":""`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("event %s lacks %s", raw, want)
			}
		}
	})
}

func TestShouldBase64Encode(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"", true},
		{"text/plain", false},
		{"text/html; charset=utf-8", false},
		{"TEXT/CSV", false},
		{"text/plain; charset", false}, // malformed parameter
		{"application/json", false},
		{"application/json; charset=utf-8", false},
		{"Application/JSON;charset=UTF-8", false},
		{"application/vnd.api+json", false},
		{"application/ld+json; profile=x", false},
		{"application/atom+xml", false},
		{"application/xml", false},
		{"application/x-www-form-urlencoded", false},
		{"application/x-www-form-urlencoded; charset=utf-8", false},
		{"application/javascript", false},
		{"application/graphql", false},
		{"application/csp-report", false},
		{"application/x-ndjson", false},
		{"multipart/form-data; boundary=----abc", true},
		{"multipart/form-data", true},
		{"application/octet-stream", true},
		{"image/png", true},
		{"application/pdf", true},
		{"application/jsonx", true},
		{"textual/plain", true},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			if got := shouldBase64Encode(tt.ct); got != tt.want {
				t.Errorf("shouldBase64Encode(%q) = %v, want %v", tt.ct, got, tt.want)
			}
		})
	}
}

func jwt(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

func TestClientContext(t *testing.T) {
	claims := `{"sub":"user-1","email":"a@example.com","app_metadata":{"provider":"email"},"exp":4102444800}`
	valid := jwt(`{"alg":"HS256","typ":"JWT"}`, claims)
	padded := func() string {
		p := strings.Split(valid, ".")
		return p[0] + "." + base64.URLEncoding.EncodeToString([]byte(claims)) + "." + p[2]
	}()
	tests := []struct {
		name     string
		auth     []string
		wantUser string // JSON; "" for a nil clientContext
	}{
		{name: "no authorization"},
		{name: "bearer JWT", auth: []string{"Bearer " + valid}, wantUser: claims},
		{name: "bearer JWT with base64 padding", auth: []string{"Bearer " + padded}, wantUser: claims},
		{name: "basic auth", auth: []string{"Basic dXNlcjpwYXNz"}},
		{name: "bearer opaque token", auth: []string{"Bearer not-a-jwt"}},
		{name: "bearer two parts", auth: []string{"Bearer aaa.bbb"}},
		{name: "bearer four parts", auth: []string{"Bearer a.b.c.d"}},
		{name: "payload not base64", auth: []string{"Bearer eyJhbGciOiJIUzI1NiJ9.!!!.sig"}},
		{name: "payload not JSON", auth: []string{"Bearer " + jwt(`{}`, `not json`)}},
		{name: "payload a JSON array", auth: []string{"Bearer " + jwt(`{}`, `[1,2]`)}},
		{name: "empty bearer", auth: []string{"Bearer "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/.netlify/functions/hello", nil)
			for _, a := range tt.auth {
				r.Header.Add("Authorization", a)
			}
			cc := clientContext(r)
			if tt.wantUser == "" {
				if cc != nil {
					t.Fatalf("clientContext = %s, want nil", cc)
				}
				return
			}
			if cc == nil {
				t.Fatalf("clientContext = nil, want one")
			}
			var got struct {
				Identity map[string]any `json:"identity"`
				User     map[string]any `json:"user"`
				Custom   struct {
					Netlify string `json:"netlify"`
				} `json:"custom"`
			}
			if err := json.Unmarshal(cc, &got); err != nil {
				t.Fatalf("clientContext %s: %v", cc, err)
			}
			wantIdentity := map[string]any{"url": "https://netlify-dev-locally-emulated-identity.netlify.app/.netlify/identity", "token": identityToken}
			if !reflect.DeepEqual(got.Identity, wantIdentity) {
				t.Errorf("identity = %v, want %v", got.Identity, wantIdentity)
			}
			var wantUser map[string]any
			json.Unmarshal([]byte(tt.wantUser), &wantUser)
			if !reflect.DeepEqual(got.User, wantUser) {
				t.Errorf("user = %v, want the token's claims %v", got.User, wantUser)
			}
			dec, err := base64.StdEncoding.DecodeString(got.Custom.Netlify)
			if err != nil {
				t.Fatalf("custom.netlify %q is not base64: %v", got.Custom.Netlify, err)
			}
			var netlify struct {
				Identity map[string]any `json:"identity"`
				User     map[string]any `json:"user"`
			}
			if err := json.Unmarshal(dec, &netlify); err != nil {
				t.Fatalf("custom.netlify %s: %v", dec, err)
			}
			if !reflect.DeepEqual(netlify.Identity, wantIdentity) || !reflect.DeepEqual(netlify.User, wantUser) {
				t.Errorf("custom.netlify = %s, want {identity, user}", dec)
			}
		})
	}
}

// TestAppendString checks the hand-written JSON string encoder against
// encoding/json: every string must decode back to what encoding/json
// would produce for it.
func TestAppendString(t *testing.T) {
	tests := []string{
		"", "plain", `quote " and \ backslash`, "new\nline\r\ttab", "\x00\x01\x1f\x7f",
		"<&> html", "héllo wörld ✓", "\u2028 and \u2029", "bad \xff utf8 \xc3", "emoji 😀",
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			got := appendString(nil, s)
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("appendString(%q) = %s: not JSON: %v", s, got, err)
			}
			want, _ := json.Marshal(s)
			var wantBack string
			json.Unmarshal(want, &wantBack)
			if back != wantBack {
				t.Errorf("appendString(%q) decodes to %q, encoding/json gives %q", s, back, wantBack)
			}
		})
	}
}
