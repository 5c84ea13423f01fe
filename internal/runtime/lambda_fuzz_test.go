package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bareLambdaWorker is a Runtime API server with no program behind it: the
// tests play the program over raw HTTP, and hand it invocations the way
// Invoke does, with handOver.
func bareLambdaWorker() *lambdaWorker {
	return &lambdaWorker{
		cfg:       &LambdaConfig{Name: "fuzz"},
		pollReady: make(chan struct{}, 1),
		polled:    make(chan struct{}),
		initErr:   make(chan *FunctionError, 1),
		done:      make(chan struct{}),
		shutdown:  make(chan struct{}),
		logs:      newLogTarget(nil),
		conns:     map[net.Conn]struct{}{},
	}
}

// runtimeAPI serves the Runtime API of whichever bare worker is current,
// so one listener serves every fuzz input with a fresh worker.
type runtimeAPI struct {
	addr string
	cur  atomic.Pointer[lambdaWorker]
}

func newRuntimeAPI(tb testing.TB) *runtimeAPI {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	api := &runtimeAPI{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			w := api.cur.Load()
			w.trackConn(c, true)
			go w.serveConn(c)
		}
	}()
	return api
}

// use makes w the worker the server answers for.
func (api *runtimeAPI) use(tb testing.TB, w *lambdaWorker) {
	api.cur.Store(w)
	tb.Cleanup(func() {
		w.stopOnce.Do(func() { close(w.shutdown) })
		close(w.done)
		w.closeAPI()
	})
}

// rawAnswer is what came back for one raw request: ok is false when no
// answer came before the deadline (a long poll).
type rawAnswer struct {
	ok     bool
	status int
	header http.Header
	body   string
}

// send writes one request with a raw request line, so that paths no URL
// parser would build reach the server, and reads the answer, waiting at
// most wait.
func (api *runtimeAPI) send(tb testing.TB, method, path string, header map[string]string, body []byte, wait time.Duration) rawAnswer {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", api.addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	if _, err := conn.Write(append([]byte(b.String()), body...)); err != nil {
		tb.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
			return rawAnswer{}
		}
		tb.Fatalf("%s %q: no answer: %v", method, path, err)
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %q: read answer: %v", method, path, err)
	}
	return rawAnswer{ok: true, status: res.StatusCode, header: res.Header, body: string(rb)}
}

const rapiInvocationPath = "/2018-06-01/runtime/invocation/"

// FuzzRuntimeAPI plays a program against bgfn's Runtime API. It takes an
// invocation through /next, then sends the fuzzer's request (its path may
// say {id} for the invocation's id), then answers the invocation the
// proper way. Whatever the request, the server answers it (a long poll
// may wait), never with a 5xx; it accepts (202) exactly the first answer
// to the invocation, delivers that answer once and as sent, and refuses
// any other answer, to an id that does not exist or was already answered,
// with Lambda's 400 InvalidRequestID.
func FuzzRuntimeAPI(f *testing.F) {
	for _, s := range []struct {
		method, path string
		body         string
	}{
		{"POST", rapiInvocationPath + "{id}/response", `{"statusCode":200,"body":"ok"}`},
		{"POST", rapiInvocationPath + "{id}/error", `{"errorMessage":"boom","errorType":"Err","stackTrace":[{"path":"a.go","line":1,"label":"f"}]}`},
		{"POST", rapiInvocationPath + "{id}/error", `not json`},
		{"POST", rapiInvocationPath + "nope/response", `{}`},
		{"POST", rapiInvocationPath + "/response", `{}`},
		{"POST", rapiInvocationPath + "{id}x/error", ``},
		{"POST", rapiInvocationPath + "{id}/response/extra", `{}`},
		{"PUT", rapiInvocationPath + "{id}/response", `{}`},
		{"GET", rapiInvocationPath + "{id}/response", ``},
		{"DELETE", rapiInvocationPath + "next", ``},
		{"GET", rapiInvocationPath + "next", ``},
		{"POST", "/2018-06-01/runtime/init/error", `{"errorMessage":"late","errorType":"InitErr"}`},
		{"POST", "/2018-06-01//runtime/invocation/{id}/response", `{}`},
		{"POST", "/2018-06-01/runtime/invocation/%7Bid%7D/response", `{}`},
		{"POST", "/2018-06-01/runtime/invocation/{id}/%2e%2e/response", `{}`},
		{"POST", "/2020-01-01/extension/register", `{"events":["SHUTDOWN"]}`},
		{"GET", "/2020-01-01/extension/event/next", ``},
		{"GET", "/", ``},
		{"GET", "*", ``},
		{"BREW", "/coffee", ``},
	} {
		f.Add(s.method, s.path, []byte(s.body), "")
	}
	f.Add("POST", rapiInvocationPath+"{id}/error", []byte(``), "Runtime.ExitError")
	api := newRuntimeAPI(f)
	f.Fuzz(func(t *testing.T, method, path string, body []byte, errType string) {
		if !rapiToken(method) || !rapiTarget(path) || !rapiFieldValue(errType) {
			return
		}
		w := bareLambdaWorker()
		api.use(t, w)
		const id = "01a2334d2a543c9274b0"
		inv := &lambdaInvocation{
			req:      &Request{ID: id, Event: json.RawMessage(`{"path":"/x"}`)},
			deadline: time.Now().Add(time.Minute),
			result:   make(chan lambdaOutcome, 2),
		}
		handed := make(chan struct{})
		go func() { w.handOver(context.Background(), inv, nil); close(handed) }()
		next := api.send(t, "GET", rapiInvocationPath+"next", nil, nil, 5*time.Second)
		<-handed
		if !next.ok || next.status != 200 || next.header.Get("Lambda-Runtime-Aws-Request-Id") != id || next.body != `{"path":"/x"}` {
			t.Fatalf("/next = %+v, want 200 with the invocation", next)
		}

		header := map[string]string{}
		if errType != "" {
			header["Lambda-Runtime-Function-Error-Type"] = errType
		}
		target := strings.ReplaceAll(path, "{id}", id)
		got := api.send(t, method, target, header, body, 300*time.Millisecond)
		delivered := takeOutcome(inv)
		switch {
		case !got.ok:
			// Only the long polls wait: /next (nothing more to hand out)
			// and the extension's event stream.
			if method != "GET" && method != "HEAD" || !strings.HasSuffix(target, "/next") {
				t.Fatalf("%s %q: no answer", method, target)
			}
		case got.status >= 500:
			t.Fatalf("%s %q answered %d %q", method, target, got.status, got.body)
		case got.status == http.StatusAccepted && delivered == nil:
			if method != "POST" || !strings.Contains(target, "init/error") {
				t.Fatalf("%s %q accepted without delivering anything", method, target)
			}
		case got.status != http.StatusAccepted && delivered != nil:
			t.Fatalf("%s %q answered %d but delivered %+v", method, target, got.status, delivered)
		case got.status == http.StatusBadRequest && strings.Contains(got.body, "InvalidRequestID"):
			if !strings.Contains(got.body, `"errorType":"InvalidRequestID"`) {
				t.Fatalf("400 body %q is not Lambda's error", got.body)
			}
		}
		if delivered != nil {
			if delivered.err == nil && string(delivered.response) != string(body) {
				t.Errorf("delivered response %q, want the body sent %q", delivered.response, body)
			}
			if delivered.err != nil && delivered.err.Type == "" {
				t.Errorf("delivered error %+v has no type", delivered.err)
			}
		}

		// The proper answer comes now: accepted if the invocation was
		// still open, refused as a second answer otherwise.
		again := api.send(t, "POST", rapiInvocationPath+id+"/response", nil, []byte(`{"statusCode":200}`), 5*time.Second)
		switch second := takeOutcome(inv); {
		case delivered == nil && (again.status != http.StatusAccepted || second == nil):
			t.Errorf("first proper answer: %d, delivered %v; want 202 and delivered", again.status, second)
		case delivered != nil && (again.status != http.StatusBadRequest || second != nil):
			t.Errorf("second answer to one invocation: %d, delivered %+v; want 400 and nothing", again.status, second)
		}
		// An invocation that does not exist is refused whatever was sent.
		if ghost := api.send(t, "POST", rapiInvocationPath+"ghost/error", nil, nil, 5*time.Second); ghost.status != http.StatusBadRequest {
			t.Errorf("error for an unknown id answered %d %q, want 400", ghost.status, ghost.body)
		}
	})
}

// takeOutcome returns the answer delivered to inv, if any.
func takeOutcome(inv *lambdaInvocation) *lambdaOutcome {
	select {
	case o := <-inv.result:
		return &o
	default:
		return nil
	}
}

// rapiToken reports whether s is an HTTP token.
func rapiToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// rapiTarget reports whether s fits in a request line.
func rapiTarget(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \r\n\t\x00") && rapiFieldValue(s)
}

// rapiFieldValue reports whether s can be sent in a header.
func rapiFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// TestRuntimeAPIAnswers covers the answers FuzzRuntimeAPI cannot reach:
// bodies at and over the response limit, and the limit lifted.
func TestRuntimeAPIAnswers(t *testing.T) {
	const id = "01a2334d2a543c9274b0"
	big := strings.Repeat("x", 2*maxErrorBody)
	tests := []struct {
		name        string
		maxResponse int64
		path        string
		body        string
		wantStatus  int
		wantBody    string // a substring of the answer
		wantResult  string // the response delivered, or "" for none
		wantErrType string // the error delivered, or ""
		wantErrLen  int    // the length of its message, when not 0
	}{
		{name: "at the limit", maxResponse: 10, path: id + "/response", body: "0123456789", wantStatus: 202, wantResult: "0123456789"},
		{
			name: "over the limit", maxResponse: 10, path: id + "/response", body: "0123456789a", wantStatus: 413,
			wantBody:    `"errorType":"RequestEntityTooLarge"`,
			wantErrType: "Function.ResponseSizeTooLarge",
		},
		{name: "no limit", maxResponse: -1, path: id + "/response", body: big, wantStatus: 202, wantResult: big},
		{name: "unknown id", path: "ghost/response", body: "{}", wantStatus: 400, wantBody: `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`},
		{name: "error for an unknown id", path: "ghost/error", body: "{}", wantStatus: 400, wantBody: `"InvalidRequestID"`},
		{name: "error bodies are cut", path: id + "/error", body: big, wantStatus: 202, wantErrType: "Error", wantErrLen: maxErrorBody},
	}
	api := newRuntimeAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := bareLambdaWorker()
			w.cfg.MaxResponse = tt.maxResponse
			api.use(t, w)
			inv := &lambdaInvocation{req: &Request{ID: id, Event: json.RawMessage(`{}`)}, result: make(chan lambdaOutcome, 2)}
			go w.handOver(context.Background(), inv, nil)
			if next := api.send(t, "GET", rapiInvocationPath+"next", nil, nil, 5*time.Second); next.status != 200 {
				t.Fatalf("/next = %+v", next)
			}
			got := api.send(t, "POST", rapiInvocationPath+tt.path, nil, []byte(tt.body), 5*time.Second)
			if got.status != tt.wantStatus || !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("answer %d %q, want %d with %q", got.status, got.body, tt.wantStatus, tt.wantBody)
			}
			out := takeOutcome(inv)
			switch {
			case tt.wantResult == "" && tt.wantErrType == "":
				if out != nil {
					t.Errorf("delivered %+v, want nothing", out)
				}
			case out == nil:
				t.Fatalf("nothing delivered")
			case tt.wantResult != "" && string(out.response) != tt.wantResult:
				t.Errorf("delivered a response of %d bytes, want %d", len(out.response), len(tt.wantResult))
			case tt.wantErrType != "" && (out.err == nil || out.err.Type != tt.wantErrType):
				t.Errorf("delivered error %+v, want type %s", out.err, tt.wantErrType)
			case tt.wantErrLen > 0 && len(out.err.Message) != tt.wantErrLen:
				t.Errorf("error message of %d bytes, want %d", len(out.err.Message), tt.wantErrLen)
			}
		})
	}
}
