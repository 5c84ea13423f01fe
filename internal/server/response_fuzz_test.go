package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// echoResponse returns, as the handler's result, the request body it was
// sent: the fuzzers put the response object there, so one server serves
// every input.
func echoResponse(_ context.Context, _ int, req *runtime.Request) (*runtime.Result, error) {
	var ev Event
	if err := json.Unmarshal(req.Event, &ev); err != nil {
		return nil, err
	}
	var raw []byte
	if ev.Body != nil {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(*ev.Body); err != nil {
			return nil, err
		}
	}
	return &runtime.Result{Response: raw, Pid: 1}, nil
}

// newEchoServer serves one function, "echo", that answers echoResponse,
// behind a real listener.
func newEchoServer(tb testing.TB) string {
	tb.Helper()
	st, err := records.NewStore(10, "")
	if err != nil {
		tb.Fatal(err)
	}
	echo := &Function{Name: "echo", Kind: discover.KindSync, Invoker: &fakeInvoker{fn: echoResponse}}
	s := New(Options{
		Registry: &fakeRegistry{fns: map[string]*Function{"echo": echo}},
		Printer:  logs.NewPrinter(io.Discard, false),
		Records:  st,
		Quiet:    true,
		Timeout:  5 * time.Second,
	})
	hs := httptest.NewUnstartedServer(s)
	// Go's own complaints (an invalid Content-Length) are not the test's.
	hs.Config.ErrorLog = discardLog()
	hs.Start()
	tb.Cleanup(hs.Close)
	return hs.Listener.Addr().String()
}

// rawExchange sends one request with body to the echo function over a
// fresh connection and returns every byte of the answer.
func rawExchange(tb testing.TB, addr, method string, body []byte) []byte {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := method + " /.netlify/functions/echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), body...)); err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		tb.Fatalf("read answer: %v (after %q)", err, out)
	}
	return out
}

// wireHeaderLine is a header line as it may appear on the wire: a token,
// a colon, and a value without control bytes other than tab.
var wireHeaderLine = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+: [^\\x00-\\x08\\x0a-\\x1f\\x7f]*$")

// serverHeaders are the headers bgfn or Go's server add to a function's.
var serverHeaders = []string{"Content-Length", "Date", "X-Bgfn-Invocation-Id", "Connection", "Transfer-Encoding", "Content-Type"}

// FuzzResponseReply sends a handler's response object, whatever it is,
// through toReply and a real HTTP server, and reads the answer as raw
// bytes. A response toReply refuses must be a 500 with its message; one it
// accepts must reach the client as exactly its status, headers and body.
// On the wire, every header line must be well formed and name a header of
// the function or of the server: no value can start a header of its own
// (CR, LF and NUL never get through) or change the framing of the answer.
//
// When name is set, the response is instead a well-formed object with
// name: value in headers and multiValueHeaders and value as the body, so
// that the fuzzer works on header names and values rather than on JSON
// syntax.
func FuzzResponseReply(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"body":"hi"}`,
		`{"statusCode":"201","headers":{"content-type":"text/plain","x-num":7,"x-bool":true,"x-arr":["a",2]},"body":"ok"}`,
		`{"statusCode":200,"headers":{"x-both":"s"},"multiValueHeaders":{"X-Both":["m1","m2"],"set-cookie":["a=1","b=2"]}}`,
		`{"statusCode":200,"headers":{"x-bad":"a\r\nSet-Cookie: evil=1"}}`,
		`{"statusCode":200,"headers":{"x-bad\r\nInjected":"v"}}`,
		`{"statusCode":200,"multiValueHeaders":{"x-bad":["ok","a\u0000b"]}}`,
		`{"statusCode":200,"headers":{"x":"\u0085\u2028"}}`,
		`{"statusCode":200,"body":"AP8Q","isBase64Encoded":true}`,
		`{"statusCode":200,"body":"not base64!","isBase64Encoded":true}`,
		`{"statusCode":200,"body":"QUJD","isBase64Encoded":true,"headers":{"content-length":"3"}}`,
		`{"statusCode":200,"body":"abcdef","headers":{"Content-Length":"2"}}`,
		`{"statusCode":200,"body":"abc","multiValueHeaders":{"content-length":["3","30"]}}`,
		`{"statusCode":200,"body":"abc","headers":{"transfer-encoding":"chunked"}}`,
		`{"statusCode":200,"body":"abc","headers":{"connection":"keep-alive, x-smuggle"}}`,
		`{"statusCode":200,"body":"abc","headers":{"transfer-encoding":"gzip"}}`,
		`{"statusCode":200,"body":"abc","headers":{"transfer-encoding":"identity","content-length":"1"}}`,
		`{"statusCode":200,"body":"abc","multiValueHeaders":{"transfer-encoding":["chunked","chunked"]}}`,
		`{"statusCode":200,"body":"abc","headers":{"trailer":"x-t","te":"trailers","upgrade":"h2c","connection":"close"}}`,
		`{"statusCode":200,"body":"abc","headers":{"content-length":"-3"}}`,
		`{"statusCode":200,"body":"abc","headers":{"content-length":" 3 "}}`,
		`{"statusCode":204,"body":"not allowed"}`,
		`{"statusCode":304,"headers":{"etag":"\"x\""}}`,
		`{"statusCode":103,"headers":{"link":"</a>; rel=preload"}}`,
		`{"statusCode":101,"headers":{"upgrade":"websocket"}}`,
		`{"statusCode":999}`,
		`{"statusCode":1e3}`,
		`{"statusCode":200.5}`,
		`{"statusCode":-1}`,
		`{"statusCode":200,"body":{"nested":[[[1]]]}}`,
		`{"statusCode":200,"headers":{"x":[[["deep"]]]}}`,
		`{"statusCode":200,"headers":null,"multiValueHeaders":{"a":null}}`,
		`{"statusCode":200,"metadata":{"builder_function":true}}`,
		`[1,2]`, `null`, ``, `"hello"`, `{"statusCode":200,"body":"\ud800"}`,
	} {
		f.Add([]byte(s), false, "", "")
	}
	f.Add([]byte(`{"statusCode":200,"body":"abc","headers":{"content-length":"100"}}`), true, "", "")
	f.Add([]byte(`{"statusCode":200,"body":"abc","headers":{"content-length":"x"}}`), true, "", "")
	f.Add([]byte(`{"statusCode":200,"headers":{"transfer-encoding":"chunked"}}`), true, "", "")
	for _, h := range [][2]string{
		{"X-Ok", "v"}, {"X-Bad", "a\r\nSet-Cookie: x=1"}, {"X-Bad", "\n"}, {"X-Nul", "\x00"}, {"X-Tab", "a\tb"},
		{"X-Del", "\x7f"}, {"X-Latin", "caf\xe9"}, {"Bad Name", "v"}, {"Bad:Name", "v"}, {"\xff", "v"},
		{"Content-Length", "1"}, {"Transfer-Encoding", "chunked"}, {"Content-Type", "text/html"},
		{"Set-Cookie", "a=1; Path=/"}, {"X-Space", "  padded  "}, {"Date", "yesterday"},
	} {
		f.Add([]byte(nil), false, h[0], h[1])
	}
	addr := newEchoServer(f)
	f.Fuzz(func(t *testing.T, response []byte, head bool, name, value string) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		if name != "" {
			var err error
			response, err = json.Marshal(map[string]any{
				"statusCode":        200,
				"headers":           map[string]string{name: value},
				"multiValueHeaders": map[string][]string{name + "-Multi": {value, value}},
				"body":              value,
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		rep, repErr := toReply(&runtime.Result{Response: response})
		wire := rawExchange(t, addr, method, response)

		headEnd := bytes.Index(wire, []byte("\r\n\r\n"))
		if headEnd < 0 {
			t.Fatalf("answer without an end of headers: %q", wire)
		}
		lines := strings.Split(string(wire[:headEnd]), "\r\n")
		names := map[string]bool{}
		for _, l := range lines[1:] {
			if !wireHeaderLine.MatchString(l) {
				t.Errorf("malformed header line on the wire: %q", l)
				continue
			}
			names[http.CanonicalHeaderKey(l[:strings.IndexByte(l, ':')])] = true
		}
		res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(wire)), &http.Request{Method: method})
		if err != nil {
			t.Fatalf("the answer does not parse: %v\n%q", err, wire)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("read body: %v\n%q", err, wire)
		}

		if repErr != nil {
			var re *responseError
			if !errors.As(repErr, &re) {
				t.Fatalf("toReply error %T, want *responseError", repErr)
			}
			if res.StatusCode != 500 || (!head && !strings.Contains(string(body), re.msg)) {
				t.Errorf("refused response answered %d %q, want 500 with %q", res.StatusCode, body, re.msg)
			}
			return
		}
		if res.StatusCode != rep.status {
			t.Errorf("status %d on the wire, want the function's %d\n%q", res.StatusCode, rep.status, wire)
		}
		for name := range names {
			if _, ok := rep.header[name]; !ok && !slices.Contains(serverHeaders, name) {
				t.Errorf("header %q on the wire that the function did not set\n%q", name, wire)
			}
		}
		for k, vs := range rep.header {
			if slices.Contains(serverHeaders, k) {
				continue
			}
			if got := res.Header[k]; !slices.Equal(got, trimAll(vs)) {
				t.Errorf("header %s = %q on the wire, want %q", k, got, vs)
			}
		}
		if bodyAllowed(method, rep.status) && !bytes.Equal(body, rep.body) {
			t.Errorf("body %q on the wire, want %q\n%q", body, rep.body, wire)
		}
	})
}

// trimAll trims the spaces that a header line's reader drops.
func trimAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.Trim(v, " \t")
	}
	return out
}

// bodyAllowed reports whether an answer to method with status carries a
// body (RFC 9110 §6.4.1).
func bodyAllowed(method string, status int) bool {
	return method != "HEAD" && status != 204 && status != 304 && status >= 200
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
