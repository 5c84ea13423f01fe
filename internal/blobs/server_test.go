package blobs

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const token = "secret-token"

type fixture struct {
	st    *Store
	srv   *Server
	http  *httptest.Server
	first atomic.Int32
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: openStore(t)}
	f.srv = NewServer(f.st, ServerOptions{Token: token, OnFirstRequest: func() { f.first.Add(1) }})
	f.http = httptest.NewServer(f.srv)
	t.Cleanup(f.http.Close)
	return f
}

// do sends one request. Headers are "Name: value" strings; "auth" adds
// the right Bearer token.
func (f *fixture) do(t *testing.T, method, path, body string, headers ...string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" || method == http.MethodPut {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.http.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		if h == "auth" {
			req.Header.Set("Authorization", "Bearer "+token)
			continue
		}
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func meta(json string) string { return "x-amz-meta-user: " + EncodeMetadata([]byte(json)) }

// TestProtocol is the protocol table: one request each, against a store
// holding site:s/k = "v" with metadata {"a":1}, deploy:0/d = "dv" and
// site:s/dir/x = "x".
func TestProtocol(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		body         string
		headers      []string
		status       int
		wantBody     string            // substring; "" checks nothing
		wantHeaders  map[string]string // "" value: must be absent
		after        func(t *testing.T, f *fixture)
	}{
		{name: "get", method: "GET", path: "/unlinked/site:s/k", headers: []string{"auth"}, status: 200, wantBody: "v",
			wantHeaders: map[string]string{"x-amz-meta-user": EncodeMetadata([]byte(`{"a":1}`)), "Content-Length": "1"}},
		{name: "get nested", method: "GET", path: "/unlinked/site:s/dir/x", headers: []string{"auth"}, status: 200, wantBody: "x"},
		{name: "head", method: "HEAD", path: "/unlinked/site:s/k", headers: []string{"auth"}, status: 200,
			wantHeaders: map[string]string{"x-amz-meta-user": EncodeMetadata([]byte(`{"a":1}`))}},
		{name: "get missing", method: "GET", path: "/unlinked/site:s/nope", headers: []string{"auth"}, status: 404},
		{name: "head missing", method: "HEAD", path: "/unlinked/site:s/nope", headers: []string{"auth"}, status: 404},
		{name: "get a folder", method: "GET", path: "/unlinked/site:s/dir", headers: []string{"auth"}, status: 404},
		{name: "no token", method: "GET", path: "/unlinked/site:s/k", status: 403, wantBody: "token"},
		{name: "wrong token", method: "GET", path: "/unlinked/site:s/k", headers: []string{"Authorization: Bearer nope"}, status: 403},
		{name: "wrong token on put", method: "PUT", path: "/unlinked/site:s/k", body: "w", headers: []string{"Authorization: Bearer nope"}, status: 403,
			after: func(t *testing.T, f *fixture) { expectValue(t, f, "site:s", "k", "v") }},
		{name: "token scheme is case-insensitive", method: "GET", path: "/unlinked/site:s/k", headers: []string{"Authorization: bearer " + token}, status: 200},
		{name: "put", method: "PUT", path: "/unlinked/site:s/new", body: "hello", headers: []string{"auth", meta(`{"b":"c"}`)}, status: 200,
			after: func(t *testing.T, f *fixture) {
				b, err := f.st.Get(site, "site:s", "new")
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				if string(b.Metadata) != `{"b":"c"}` {
					t.Fatalf("metadata %s", b.Metadata)
				}
			}},
		{name: "put empty value", method: "PUT", path: "/unlinked/site:s/empty", headers: []string{"auth"}, status: 200,
			after: func(t *testing.T, f *fixture) { expectValue(t, f, "site:s", "empty", "") }},
		{name: "put with escapes", method: "PUT", path: "/unlinked/site:my%20store/caf%C3%A9%20au%20lait", body: "x", headers: []string{"auth"}, status: 200,
			after: func(t *testing.T, f *fixture) { expectValue(t, f, "site:my store", "café au lait", "x") }},
		{name: "put only-if-new on an existing key", method: "PUT", path: "/unlinked/site:s/k", body: "w", headers: []string{"auth", "If-None-Match: *"}, status: 412,
			after: func(t *testing.T, f *fixture) { expectValue(t, f, "site:s", "k", "v") }},
		{name: "put only-if-new on a new key", method: "PUT", path: "/unlinked/site:s/fresh", body: "w", headers: []string{"auth", "If-None-Match: *"}, status: 200},
		{name: "put only-if-match with a wrong etag", method: "PUT", path: "/unlinked/site:s/k", body: "w", headers: []string{"auth", `If-Match: "nope"`}, status: 412},
		{name: "put only-if-match on a missing key", method: "PUT", path: "/unlinked/site:s/nope", body: "w", headers: []string{"auth", `If-Match: "nope"`}, status: 412},
		{name: "both conditions", method: "PUT", path: "/unlinked/site:s/k", body: "w", headers: []string{"auth", `If-Match: "x"`, "If-None-Match: *"}, status: 400},
		{name: "metadata at the limit", method: "PUT", path: "/unlinked/site:s/m", body: "w",
			headers: []string{"auth", "x-amz-meta-user: b64;" + base64.StdEncoding.EncodeToString([]byte(`{"x":"`+strings.Repeat("m", 1506)+`"}`))}, status: 200},
		{name: "metadata past the limit", method: "PUT", path: "/unlinked/site:s/m2", body: "w",
			headers: []string{"auth", "x-amz-meta-user: b64;" + base64.StdEncoding.EncodeToString([]byte(`{"x":"`+strings.Repeat("m", 1509)+`"}`))}, status: 400,
			wantHeaders: map[string]string{"x-nf-error": "metadata too large: 2050 bytes encoded, the limit is 2048 (2 KB)"},
			after: func(t *testing.T, f *fixture) {
				if _, err := f.st.Get(site, "site:s", "m2"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("a value with too much metadata was stored: %v", err)
				}
			}},
		{name: "metadata not b64", method: "PUT", path: "/unlinked/site:s/m3", body: "w", headers: []string{"auth", "x-amz-meta-user: {}"}, status: 400},
		{name: "metadata not JSON", method: "PUT", path: "/unlinked/site:s/m3", body: "w", headers: []string{"auth", meta("{nope")}, status: 400},
		{name: "empty segment", method: "PUT", path: "/unlinked/site:s/a//b", body: "w", headers: []string{"auth"}, status: 400, wantBody: "empty segments"},
		{name: "escaped dotdot", method: "PUT", path: "/unlinked/site:s/%2E%2E/x", body: "w", headers: []string{"auth"}, status: 400, wantBody: ". or .. segments"},
		{name: "escaped slash dotdot", method: "PUT", path: "/unlinked/site:s/a%2F..%2F..%2Fx", body: "w", headers: []string{"auth"}, status: 400},
		{name: "NUL", method: "PUT", path: "/unlinked/site:s/a%00b", body: "w", headers: []string{"auth"}, status: 400, wantBody: "NUL"},
		{name: "key too long", method: "PUT", path: "/unlinked/site:s/" + strings.Repeat("k", 601), body: "w", headers: []string{"auth"}, status: 400, wantBody: "600 bytes"},
		{name: "store too long", method: "PUT", path: "/unlinked/site:" + strings.Repeat("s", 65) + "/k", body: "w", headers: []string{"auth"}, status: 400, wantBody: "64 bytes"},
		{name: "store with slash", method: "PUT", path: "/unlinked/site:a%2Fb/k", body: "w", headers: []string{"auth"}, status: 400},
		{name: "bad deploy id", method: "PUT", path: "/unlinked/deploy:a-b/k", body: "w", headers: []string{"auth"}, status: 400},
		{name: "site dotdot", method: "GET", path: "/%2E%2E/site:s/k", headers: []string{"auth"}, status: 400},
		{name: "no site", method: "GET", path: "/", headers: []string{"auth"}, status: 400},
		{name: "put without key", method: "PUT", path: "/unlinked/site:s", body: "w", headers: []string{"auth"}, status: 400, wantBody: "missing key"},
		{name: "conflict", method: "PUT", path: "/unlinked/site:s/k/below", body: "w", headers: []string{"auth"}, status: 409},
		{name: "post", method: "POST", path: "/unlinked/site:s/k", body: "w", headers: []string{"auth"}, status: 405, wantHeaders: map[string]string{"Allow": "GET, HEAD, PUT, DELETE"}},
		{name: "deploy store with region", method: "GET", path: "/region:dev/unlinked/deploy:0/d", headers: []string{"auth"}, status: 200, wantBody: "dv"},
		{name: "put deploy store with region", method: "PUT", path: "/region:us-east-1/unlinked/deploy:0:named/k", body: "n", headers: []string{"auth"}, status: 200,
			after: func(t *testing.T, f *fixture) { expectValue(t, f, "deploy:0:named", "k", "n") }},
		{name: "list", method: "GET", path: "/unlinked/site:s", headers: []string{"auth"}, status: 200, wantBody: `"key":"dir/x"`},
		{name: "list directories", method: "GET", path: "/unlinked/site:s?directories=true", headers: []string{"auth"}, status: 200, wantBody: `"directories":["dir"]`},
		{name: "list prefix", method: "GET", path: "/unlinked/site:s?prefix=dir%2F", headers: []string{"auth"}, status: 200, wantBody: `"key":"dir/x"`},
		{name: "list missing store", method: "GET", path: "/unlinked/site:none", headers: []string{"auth"}, status: 200, wantBody: `{"blobs":[],"directories":[]}`},
		{name: "list bad cursor", method: "GET", path: "/unlinked/site:s?cursor=!", headers: []string{"auth"}, status: 400},
		{name: "list stores", method: "GET", path: "/unlinked?prefix=site%3A", headers: []string{"auth"}, status: 200, wantBody: `{"stores":["site:s"]}`},
		{name: "list all stores", method: "GET", path: "/unlinked", headers: []string{"auth"}, status: 200, wantBody: `{"stores":["deploy:0","site:s"]}`},
		{name: "list stores of another site", method: "GET", path: "/other", headers: []string{"auth"}, status: 200, wantBody: `{"stores":[]}`},
		{name: "delete", method: "DELETE", path: "/unlinked/site:s/k", headers: []string{"auth"}, status: 204,
			after: func(t *testing.T, f *fixture) {
				if _, err := f.st.Get(site, "site:s", "k"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("after delete: %v", err)
				}
			}},
		{name: "delete missing", method: "DELETE", path: "/unlinked/site:s/nope", headers: []string{"auth"}, status: 204},
		{name: "delete store", method: "DELETE", path: "/unlinked/site:s", headers: []string{"auth"}, status: 200, wantBody: `{"blobs_deleted":2,"has_more":false}`},
		{name: "api style list stores", method: "GET", path: "/api/v1/blobs/unlinked?prefix=site%3A", headers: []string{"auth"}, status: 200, wantBody: `{"stores":["site:s"]}`},
		{name: "api style head", method: "HEAD", path: "/api/v1/blobs/unlinked/site:s/k", headers: []string{"auth"}, status: 200},
		{name: "api style list", method: "GET", path: "/api/v1/blobs/unlinked/site:s?prefix=d", headers: []string{"auth"}, status: 200, wantBody: `"key":"dir/x"`},
		{name: "api style delete", method: "DELETE", path: "/api/v1/blobs/unlinked/site:s/k", headers: []string{"auth"}, status: 204},
		{name: "api style needs the token", method: "GET", path: "/api/v1/blobs/unlinked/site:s/k", headers: []string{"accept: " + signedURLAccept}, status: 403},
		{name: "unknown api path", method: "GET", path: "/api/v1/other/x", headers: []string{"auth"}, status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			seed(t, f.st)
			resp := f.do(t, tt.method, tt.path, tt.body, tt.headers...)
			body := bodyOf(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d %q (x-nf-error %q), want %d", tt.method, tt.path, resp.StatusCode, body, resp.Header.Get("x-nf-error"), tt.status)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Fatalf("body %q does not contain %q", body, tt.wantBody)
			}
			for k, v := range tt.wantHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Fatalf("header %s = %q, want %q", k, got, v)
				}
			}
			if resp.StatusCode >= 400 && resp.StatusCode != 404 && resp.Header.Get("x-nf-error") == "" {
				t.Fatalf("a %d without x-nf-error", resp.StatusCode)
			}
			if tt.after != nil {
				tt.after(t, f)
			}
		})
	}
}

func seed(t *testing.T, st *Store) {
	t.Helper()
	if _, err := st.Put(site, "site:s", "k", strings.NewReader("v"), []byte(`{"a":1}`), Condition{}); err != nil {
		t.Fatal(err)
	}
	put(t, st, "site:s", "dir/x", "x")
	put(t, st, "deploy:0", "d", "dv")
}

func expectValue(t *testing.T, f *fixture, store, key, want string) {
	t.Helper()
	if v, _ := read(t, f.st, store, key); v != want {
		t.Fatalf("%s/%s = %q, want %q", store, key, v, want)
	}
}

// TestProtocolETags follows ETags through PUT, GET, HEAD, If-Match and
// If-None-Match (304), as getWithMetadata({etag}) and onlyIfMatch use them.
func TestProtocolETags(t *testing.T) {
	f := newFixture(t)
	r1 := f.do(t, "PUT", "/unlinked/site:s/k", "one", "auth")
	e1 := r1.Header.Get("ETag")
	if r1.StatusCode != 200 || !strings.HasPrefix(e1, `"`) {
		t.Fatalf("put: %d etag %q", r1.StatusCode, e1)
	}
	for _, m := range []string{"GET", "HEAD"} {
		if got := f.do(t, m, "/unlinked/site:s/k", "", "auth").Header.Get("ETag"); got != e1 {
			t.Fatalf("%s etag %q, want %q", m, got, e1)
		}
	}
	nm := f.do(t, "GET", "/unlinked/site:s/k", "", "auth", "If-None-Match: "+e1)
	if nm.StatusCode != 304 || nm.Header.Get("ETag") != e1 || nm.Header.Get("x-amz-meta-user") == "" {
		t.Fatalf("conditional get: %d %v", nm.StatusCode, nm.Header)
	}
	r2 := f.do(t, "PUT", "/unlinked/site:s/k", "two", "auth", "If-Match: "+e1)
	if r2.StatusCode != 200 || r2.Header.Get("ETag") == e1 {
		t.Fatalf("put if-match: %d etag %q", r2.StatusCode, r2.Header.Get("ETag"))
	}
	if r := f.do(t, "PUT", "/unlinked/site:s/k", "three", "auth", "If-Match: "+e1); r.StatusCode != 412 {
		t.Fatalf("put with a stale etag: %d", r.StatusCode)
	}
	expectValue(t, f, "site:s", "k", "two")
	// The listing carries the same ETag, and a time as the client prints one.
	var page struct {
		Blobs []wireBlob `json:"blobs"`
	}
	if err := json.Unmarshal([]byte(bodyOf(t, f.do(t, "GET", "/unlinked/site:s", "", "auth"))), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Blobs) != 1 || page.Blobs[0].ETag != r2.Header.Get("ETag") || page.Blobs[0].Size != 3 {
		t.Fatalf("listing %+v", page.Blobs)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", page.Blobs[0].LastModified); err != nil {
		t.Fatalf("last_modified %q: %v", page.Blobs[0].LastModified, err)
	}
}

// TestProtocolMissingBody: a PUT without Content-Length and not chunked
// has no body at all; it is refused rather than stored as empty.
func TestProtocolMissingBody(t *testing.T) {
	f := newFixture(t)
	c, err := net.Dial("tcp", strings.TrimPrefix(f.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /unlinked/site:s/k HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", token)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired || !strings.Contains(resp.Header.Get("x-nf-error"), "missing body") {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("x-nf-error"))
	}
	if _, err := f.st.Get(site, "site:s", "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stored: %v", err)
	}
}

// TestProtocolPagination lists 1,100 keys through next_cursor.
func TestProtocolPagination(t *testing.T) {
	f := newFixture(t)
	fill(t, f.st, "site:p", 1100)
	var keys []string
	cursor := ""
	pages := 0
	for {
		path := "/unlinked/site:p"
		if cursor != "" {
			path += "?cursor=" + cursor
		}
		var page struct {
			Blobs      []wireBlob `json:"blobs"`
			NextCursor string     `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(bodyOf(t, f.do(t, "GET", path, "", "auth"))), &page); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, b := range page.Blobs {
			keys = append(keys, b.Key)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if pages != 2 || len(keys) != 1100 || keys[0] != "k0000" || keys[1099] != "k1099" {
		t.Fatalf("%d pages, %d keys", pages, len(keys))
	}
}

// TestSignedURLs: the API style hands out signed URLs that work without
// the token, only for their method and path.
func TestSignedURLs(t *testing.T) {
	f := newFixture(t)
	seed(t, f.st)
	signed := func(method, path string) string {
		t.Helper()
		r := f.do(t, method, path, "", "auth", "accept: "+signedURLAccept)
		var out struct{ URL string }
		if err := json.Unmarshal([]byte(bodyOf(t, r)), &out); err != nil || r.StatusCode != 200 {
			t.Fatalf("signed url: %d %v", r.StatusCode, err)
		}
		return strings.TrimPrefix(out.URL, f.http.URL)
	}
	get := signed("GET", "/api/v1/blobs/unlinked/site:s/k")
	if !strings.HasPrefix(get, "/unlinked/site:s/k?signature=") {
		t.Fatalf("signed url %q", get)
	}
	if r := f.do(t, "GET", get, ""); r.StatusCode != 200 || bodyOf(t, r) != "v" {
		t.Fatalf("get through the signed url: %d", r.StatusCode)
	}
	if r := f.do(t, "PUT", get, "w"); r.StatusCode != 403 {
		t.Fatalf("a GET signature allowed a PUT: %d", r.StatusCode)
	}
	if r := f.do(t, "GET", strings.Replace(get, "/k?", "/dir/x?", 1), ""); r.StatusCode != 403 {
		t.Fatalf("a signature for one key opened another: %d", r.StatusCode)
	}
	putURL := signed("PUT", "/api/v1/blobs/unlinked/site:s/new")
	if r := f.do(t, "PUT", putURL, "signed", meta(`{"m":true}`)); r.StatusCode != 200 {
		t.Fatalf("put through the signed url: %d", r.StatusCode)
	}
	expectValue(t, f, "site:s", "new", "signed")
	legacy := signed("GET", "/api/v1/sites/unlinked/blobs/k?context=site:s")
	if r := f.do(t, "GET", legacy, ""); r.StatusCode != 200 || bodyOf(t, r) != "v" {
		t.Fatalf("legacy signed url %q: %d", legacy, r.StatusCode)
	}
}

func TestFirstRequestHook(t *testing.T) {
	f := newFixture(t)
	f.do(t, "GET", "/unlinked/site:s/k", "")
	if n := f.first.Load(); n != 0 {
		t.Fatalf("a refused request fired the hook %d times", n)
	}
	for range 3 {
		f.do(t, "GET", "/unlinked/site:s/k", "", "auth")
	}
	if n := f.first.Load(); n != 1 {
		t.Fatalf("hook fired %d times, want 1", n)
	}
}

func TestContextValues(t *testing.T) {
	st := openStore(t)
	s := NewServer(st, ServerOptions{})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("url %q", s.URL())
	}
	var ctx map[string]string
	b, _ := base64.StdEncoding.DecodeString(s.Context("unlinked", "0"))
	if err := json.Unmarshal(b, &ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"edgeURL": s.URL(), "uncachedEdgeURL": s.URL(), "token": s.Token(), "siteID": "unlinked", "deployID": "0", "primaryRegion": "dev"}
	if fmt.Sprint(ctx) != fmt.Sprint(want) {
		t.Fatalf("context %v, want %v", ctx, want)
	}
	b, _ = base64.StdEncoding.DecodeString(s.EventBlobs())
	if got := string(b); got != fmt.Sprintf(`{"primary_region":"dev","url":%q,"url_uncached":%q,"token":%q}`, s.URL(), s.URL(), s.Token()) {
		t.Fatalf("event.blobs %s", got)
	}
	if len(s.Token()) < 32 {
		t.Fatalf("token %q is short", s.Token())
	}
}

// TestServerStartStop: Start serves on loopback until the context ends.
func TestServerStartStop(t *testing.T) {
	st := openStore(t)
	s := NewServer(st, ServerOptions{Token: token})
	ctx, cancel := context.WithCancel(t.Context())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", s.URL()+"/unlinked/site:s/k", strings.NewReader("v"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("put: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL(), "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still listening after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	s.Close()
}

// TestServerStreamsLargeValues: 50 MB through the HTTP server, up and
// down, without the value in memory on either side.
func TestServerStreamsLargeValues(t *testing.T) {
	f := newFixture(t)
	var sum [32]byte
	alloc := allocatedBy(func() {
		req, _ := http.NewRequest("PUT", f.http.URL+"/unlinked/site:big/v", &pattern{n: bigValue})
		req.ContentLength = bigValue
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("put: %v %v", resp, err)
		}
		resp.Body.Close()
		req, _ = http.NewRequest("GET", f.http.URL+"/unlinked/site:big/v", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.ContentLength != bigValue {
			t.Fatalf("get: %v %v", resp, err)
		}
		h := sha256.New()
		io.Copy(h, resp.Body)
		resp.Body.Close()
		copy(sum[:], h.Sum(nil))
	})
	if sum != patternSum(bigValue) {
		t.Fatal("the value read back differs")
	}
	t.Logf("50 MB up and down allocated %d KB", alloc>>10)
	if alloc > 8<<20 {
		t.Fatalf("50 MB up and down allocated %d MB; the value must stream", alloc>>20)
	}
}
