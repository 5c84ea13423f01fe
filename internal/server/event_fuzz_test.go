package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRequestEvent sends a request built from the fuzzer's method, path,
// query parameters, headers, content type and body through Go's HTTP
// request parser, turns it into an event and decodes the event's JSON. The
// event must be valid JSON that encoding/json reads exactly as it reads
// its own encoding of the same event, and it must give the request back:
// the method, the path, every query value and header value in order, and
// the body (base64 for binary content types, as sent for text ones).
//
// Query parameters and headers are NUL-separated name, value lists.
func FuzzRequestEvent(f *testing.F) {
	f.Add("GET", "/.netlify/functions/hello", "name\x00Ada", "Accept\x00*/*\x00User-Agent\x00curl/8", "", []byte(nil))
	f.Add("POST", "/.netlify/functions/echo/sub/path", "a\x001\x00a\x002\x00b c\x00d&e=f", "X-Multi\x00one\x00x-multi\x00two, three", "application/json", []byte(`{"to":"a@b.c"}`))
	f.Add("PUT", "/api/items/42", "q\x00\u00e9\x00\x00empty key", "Cookie\x00a=1\x00Cookie\x00b=2", "text/plain; charset=utf-8", []byte("h\u00e9llo\n"))
	f.Add("POST", "/.netlify/functions/upload", "", "Authorization\x00Bearer x.y.z", "image/png", []byte("\x89PNG\r\n\x1a\n\x00\x00\xff"))
	f.Add("DELETE", "/a%20b/%2F/%zz", "%\x00%zz\x00+\x00+", "", "application/octet-stream", []byte{0, 1, 2})
	f.Add("PATCH", "/p", "k\x00\xff", "X-Bin\x00\xe9t\xe9", "application/vnd.api+json", []byte("\xff\xfe"))
	f.Add("OPTIONS", "/", "", "", "multipart/form-data; boundary=x", []byte("--x\r\n\r\n--x--"))
	f.Add("GET", "/q", "\xff\x00a\x00\xfe\x00b", "", "", []byte(nil))
	f.Add("GET", "/\u00e9/'!$&()*+,;=:@", "\u2028\x00\u2029", "", "TEXT/HTML", []byte("<p>\u2028</p>"))
	f.Fuzz(func(t *testing.T, method, path, params, headers, ct string, body []byte) {
		if !validToken(method) || !validTarget(path) || !validHeaderValue(ct) || strings.TrimSpace(ct) != ct {
			return
		}
		query := pairs(params)
		var sent [][2]string
		for _, h := range pairs(headers) {
			if validToken(h[0]) && validHeaderValue(h[1]) && !reservedHeader(h[0]) {
				sent = append(sent, h)
			}
		}

		var raw bytes.Buffer
		target := path
		var q []string
		for _, kv := range query {
			q = append(q, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
		}
		rawQuery := strings.Join(q, "&")
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		raw.WriteString(method + " " + target + " HTTP/1.1\r\nHost: localhost:9999\r\n")
		for _, h := range sent {
			raw.WriteString(h[0] + ": " + h[1] + "\r\n")
		}
		if ct != "" {
			raw.WriteString("Content-Type: " + ct + "\r\n")
		}
		raw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		raw.Write(body)
		r, err := http.ReadRequest(bufio.NewReader(&raw))
		if err != nil {
			return // Go's server answers 400 before bgfn sees it
		}
		r.RemoteAddr = "127.0.0.1:5000"

		ev := newEvent(r, body, "req-1", "site-1")
		enc := appendEvent(nil, ev)
		if !json.Valid(enc) {
			t.Fatalf("event is not valid JSON: %q", enc)
		}
		var got Event
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("decode event: %v", err)
		}
		// appendEvent must say what encoding/json says.
		ref, err := jsonMarshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var want Event
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		// The request context is written in API Gateway's shape, which
		// RequestContext's untagged fields do not decode; compare it apart.
		gotRC := got.RequestContext
		got.RequestContext, want.RequestContext = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("appendEvent and encoding/json disagree:\n%s\n%s", enc, ref)
		}
		if gotRC == nil || gotRC.RequestID != "req-1" || gotRC.HTTPMethod != method || gotRC.Path != got.Path {
			t.Errorf("requestContext = %+v, want the request's id, method and path", gotRC)
		}

		if got.HTTPMethod != method {
			t.Errorf("httpMethod = %q, want %q", got.HTTPMethod, method)
		}
		if up, err := url.PathUnescape(got.Path); err != nil || up != r.URL.Path {
			t.Errorf("path %q does not unescape to the request's %q (%v)", got.Path, r.URL.Path, err)
		}
		if got.RawQuery != rawQuery {
			t.Errorf("rawQuery = %q, want %q", got.RawQuery, rawQuery)
		}
		if want := "http://localhost:9999" + got.Path; got.RawURL != want && got.RawURL != want+"?"+rawQuery {
			t.Errorf("rawUrl = %q, want %q with the query", got.RawURL, want)
		}

		wantQ := map[string][]string{}
		for _, kv := range query {
			k := jsonText(kv[0])
			wantQ[k] = append(wantQ[k], jsonText(kv[1]))
		}
		if !reflect.DeepEqual(got.MultiValueQueryStringParameters, wantQ) {
			t.Errorf("multiValueQueryStringParameters = %q, want %q", got.MultiValueQueryStringParameters, wantQ)
		}
		for k, vs := range wantQ {
			if got.QueryStringParameters[k] != strings.Join(vs, ", ") {
				t.Errorf("queryStringParameters[%q] = %q, want %q", k, got.QueryStringParameters[k], strings.Join(vs, ", "))
			}
		}

		wantH := map[string][]string{}
		for _, h := range sent {
			k := strings.ToLower(h[0])
			wantH[k] = append(wantH[k], jsonText(strings.Trim(h[1], " \t")))
		}
		for k, vs := range wantH {
			if !slices.Equal(got.MultiValueHeaders[k], vs) {
				t.Errorf("multiValueHeaders[%q] = %q, want %q", k, got.MultiValueHeaders[k], vs)
			}
			if got.Headers[k] != strings.Join(vs, ", ") {
				t.Errorf("headers[%q] = %q, want %q", k, got.Headers[k], strings.Join(vs, ", "))
			}
		}
		if got.Headers["x-nf-request-id"] != "req-1" || got.Headers["host"] != "localhost:9999" {
			t.Errorf("bgfn's own headers were overridden: %q", got.Headers)
		}

		mt := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
		switch {
		case mt == "" || mt == "application/octet-stream" || strings.HasPrefix(mt, "image/"):
			if !got.IsBase64Encoded {
				t.Errorf("content type %q: body not base64-encoded", ct)
			}
		case strings.HasPrefix(mt, "text/") || mt == "application/json":
			if got.IsBase64Encoded {
				t.Errorf("content type %q: text body base64-encoded", ct)
			}
		}
		switch {
		case len(body) == 0:
			if got.Body != nil {
				t.Errorf("empty request body reached the event as %q", *got.Body)
			}
		case got.Body == nil:
			t.Errorf("body of %d bytes missing from the event", len(body))
		case got.IsBase64Encoded:
			if dec, err := base64.StdEncoding.DecodeString(*got.Body); err != nil || !bytes.Equal(dec, body) {
				t.Errorf("base64 body %q does not decode to the request body %q (%v)", *got.Body, body, err)
			}
		case *got.Body != jsonText(string(body)):
			t.Errorf("text body = %q, want %q", *got.Body, body)
		}
	})
}

// pairs splits a NUL-separated list into (name, value) pairs; a name
// without a value gets "".
func pairs(s string) [][2]string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, "\x00")
	var out [][2]string
	for i := 0; i < len(parts); i += 2 {
		kv := [2]string{parts[i]}
		if i+1 < len(parts) {
			kv[1] = parts[i+1]
		}
		out = append(out, kv)
	}
	return out
}

// jsonText is s as it comes out of a JSON string: each byte that is not
// part of valid UTF-8 becomes U+FFFD (what encoding/json does, and what
// Node's Buffer.toString does to a request body).
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// validToken reports whether s is an HTTP token (a method or header name).
func validToken(s string) bool {
	return s != "" && validHeaderName(s)
}

// validTarget reports whether s can be sent as the path of a request line.
func validTarget(s string) bool {
	return strings.HasPrefix(s, "/") && !strings.ContainsAny(s, " ?#\r\n\t\x00") && validHeaderValue(s)
}

// reservedHeader names headers that framing or bgfn itself sets.
func reservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "host", "content-length", "content-type", "transfer-encoding", "connection", "x-forwarded-for", "client-ip":
		return true
	}
	lk := strings.ToLower(name)
	return strings.HasPrefix(lk, "x-nf-") || slices.Contains(internalHeaders, lk)
}
