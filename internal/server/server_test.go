package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// fakeRegistry is a fixed set of functions.
type fakeRegistry struct {
	mu  sync.Mutex
	fns map[string]*Function
}

var _ Registry = (*fakeRegistry)(nil)

func (r *fakeRegistry) Lookup(name string) (*Function, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn, ok := r.fns[name]
	return fn, ok
}

// Route matches custom paths exactly; routing itself is tested in
// internal/routes.
func (r *fakeRegistry) Route(method, path string) (*Function, string, map[string]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fn := range r.fns {
		for _, p := range fn.Paths {
			if p == path {
				return fn, p, nil, true
			}
		}
	}
	return nil, "", nil, false
}

// invokeFunc answers the n-th call (1-based) of a fake invoker.
type invokeFunc func(ctx context.Context, n int, req *runtime.Request) (*runtime.Result, error)

// call is what a fake invoker saw of one request.
type call struct {
	id         string
	event      Event
	cc         json.RawMessage
	timeout    time.Duration
	background bool
}

// fakeInvoker stands in for a runtime.Pool.
type fakeInvoker struct {
	fn invokeFunc

	mu    sync.Mutex
	calls []call
}

var _ Invoker = (*fakeInvoker)(nil)

func (f *fakeInvoker) Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error) {
	var ev Event
	if err := json.Unmarshal(req.Event, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{id: req.ID, event: ev, cc: req.ClientContext, timeout: req.Timeout, background: req.Background})
	n := len(f.calls)
	f.mu.Unlock()
	if req.Log != nil {
		req.Log(runtime.Stdout, []byte("hello from attempt "+strconv.Itoa(n)))
	}
	return f.fn(ctx, n, req)
}

func (f *fakeInvoker) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// respond returns a handler result.
func respond(response string) invokeFunc {
	return func(context.Context, int, *runtime.Request) (*runtime.Result, error) {
		return &runtime.Result{Response: json.RawMessage(response), Pid: 4242}, nil
	}
}

// throw returns a handler error.
func throw(fe *runtime.FunctionError) invokeFunc {
	return func(context.Context, int, *runtime.Request) (*runtime.Result, error) {
		return &runtime.Result{Error: fe, Pid: 4242}, nil
	}
}

// fail returns an invocation error, as a pool does.
func fail(err error) invokeFunc {
	return func(context.Context, int, *runtime.Request) (*runtime.Result, error) { return nil, err }
}

// syncBuffer is a buffer safe to read while the sink writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// sink is flushed before reading: it buffers lines briefly.
	sink *logs.Sink
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	if b.sink != nil {
		b.sink.Flush()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func fn(name string, kind discover.Kind, f invokeFunc) *Function {
	return &Function{Name: name, Kind: kind, Invoker: &fakeInvoker{fn: f}}
}

func invoker(f *Function) *fakeInvoker { return f.Invoker.(*fakeInvoker) }

// testOptions are the settings of the server, the background queue and
// the API a test wires together.
type testOptions struct {
	Timeout              time.Duration
	ScheduledTimeout     time.Duration
	MaxBody              int64
	MaxBackgroundBody    int64
	SiteID               string
	BackgroundTimeout    time.Duration
	Retries              int
	RetryDelays          []time.Duration
	MaxBackgroundRunning int
	Info                 api.Info
}

// testServer is the public server with the background queue and the API,
// wired as bgfn dev wires them.
type testServer struct {
	*Server
	queue *background.Queue
	mux   *http.ServeMux
	done  chan struct{}
}

func (ts *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { ts.mux.ServeHTTP(w, r) }

// Drain stops taking invocations, as bgfn dev does at Ctrl-C.
func (ts *testServer) Drain() {
	ts.Server.Drain()
	ts.queue.Drain()
}

// Wait waits for sync and background invocations.
func (ts *testServer) Wait(ctx context.Context) error {
	return errors.Join(ts.Server.Wait(ctx), ts.queue.Wait(ctx))
}

// Close stops the queue and records what never ended as interrupted.
func (ts *testServer) Close(ctx context.Context) {
	select {
	case <-ts.done:
	default:
		close(ts.done)
	}
	ts.queue.Close(ctx)
	for _, r := range ts.opts.Records.Unfinished() {
		r.Finish(records.Interrupted)
	}
}

// newServer returns a server with fns, and its terminal output.
func newServer(t *testing.T, o testOptions, fns ...*Function) (*testServer, *syncBuffer) {
	t.Helper()
	reg := &fakeRegistry{fns: map[string]*Function{}}
	for _, f := range fns {
		reg.fns[f.Name] = f
	}
	out := &syncBuffer{}
	p := logs.NewPrinter(out, false)
	out.sink = p.Sink()
	st, err := records.NewStore(100, "")
	if err != nil {
		t.Fatal(err)
	}
	q := background.New(background.Options{
		Lookup: func(name string) (background.Invoker, bool) {
			f, ok := reg.Lookup(name)
			if !ok || f.Invoker == nil {
				return nil, false
			}
			return f.Invoker, true
		},
		Records: st, Printer: p, Timeout: o.BackgroundTimeout,
		Retries: o.Retries, RetryDelays: o.RetryDelays, MaxRunning: o.MaxBackgroundRunning,
	})
	s := New(Options{
		Registry: reg, Printer: p, Background: q, Records: st,
		Timeout: o.Timeout, ScheduledTimeout: o.ScheduledTimeout,
		MaxBody: o.MaxBody, MaxBackgroundBody: o.MaxBackgroundBody, SiteID: o.SiteID,
	})
	ts := &testServer{Server: s, queue: q, mux: http.NewServeMux(), done: make(chan struct{})}
	ts.mux.Handle("/.bgfn/", api.New(api.Options{Records: st, Replayer: s, Info: o.Info, Done: ts.done}))
	ts.mux.Handle("/", s)
	t.Cleanup(func() { ts.Close(context.Background()) })
	return ts, out
}

// serve starts an HTTP server for s.
func serve(t *testing.T, s *testServer) string {
	t.Helper()
	hs := httptest.NewServer(s)
	// Cleanups run last-registered first: the server closes (ending event
	// streams and background runs) before the listener.
	t.Cleanup(hs.Close)
	t.Cleanup(func() { s.Close(context.Background()) })
	return hs.URL
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, body io.Reader, header map[string]string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func TestHandlerSync(t *testing.T) {
	okResponse := `{"statusCode":201,"headers":{"x-custom":"v","x-num":7},"multiValueHeaders":{"set-cookie":["a=1","b=2"]},"body":"<html><body>hi</body></html>"}`
	stack := []string{
		"at handler (/site/netlify/functions/hello.mjs:3:9)",
		"at file:///tmp/bgfn/nodeboot/bootstrap.mjs:10:5",
		"at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
		"at run (/site/node_modules/lib/index.js:1:1)",
	}
	wantTrace := "Error: bad <input>\n at handler (/site/netlify/functions/hello.mjs:3:9)\n at run (/site/node_modules/lib/index.js:1:1)"
	tests := []struct {
		name    string
		fn      *Function // registered; nil for none
		method  string
		path    string
		headers map[string]string
		body    string
		opts    testOptions

		wantStatus     int
		wantBody       string   // exact, unless wantContains is set
		wantContains   []string // substrings of the body
		wantHeader     map[string]string
		wantNoHeader   []string
		wantCalls      int
		wantRecord     records.Status // "" for no record
		wantRecordCode int
		wantLog        string // a substring of the terminal output
	}{
		{
			name:       "unknown function",
			fn:         fn("hello", discover.KindSync, respond(okResponse)),
			method:     "GET",
			path:       "/.netlify/functions/nope",
			wantStatus: 404,
			wantBody:   "Function not found...",
		},
		{
			name:       "root",
			fn:         fn("hello", discover.KindSync, respond(okResponse)),
			method:     "GET",
			path:       "/",
			wantStatus: 404,
			wantBody:   "Function not found...",
		},
		{
			name:       "other path",
			fn:         fn("hello", discover.KindSync, respond(okResponse)),
			method:     "POST",
			path:       "/api/hello",
			wantStatus: 404,
			wantBody:   "Function not found...",
		},
		{
			name:       "functions prefix without a name",
			fn:         fn("hello", discover.KindSync, respond(okResponse)),
			method:     "GET",
			path:       "/.netlify/functions/",
			wantStatus: 404,
			wantBody:   "Function not found...",
		},
		{
			name:       "name is case-sensitive",
			fn:         fn("hello", discover.KindSync, respond(okResponse)),
			method:     "GET",
			path:       "/.netlify/functions/Hello",
			wantStatus: 404,
			wantBody:   "Function not found...",
		},
		{
			name: "invalid name",
			fn: &Function{Name: "foo.d", Kind: discover.KindSync, Invalid: "invalid name",
				Invoker: &fakeInvoker{fn: respond(okResponse)}},
			method:     "GET",
			path:       "/.netlify/functions/foo.d",
			wantStatus: 400,
			wantBody:   "Function name should consist only of alphanumeric characters, hyphen & underscores.",
		},
		{
			name:           "sync 200 passes headers and body through",
			fn:             fn("hello", discover.KindSync, respond(okResponse)),
			method:         "GET",
			path:           "/.netlify/functions/hello",
			wantStatus:     201,
			wantBody:       "<html><body>hi</body></html>",
			wantHeader:     map[string]string{"X-Custom": "v", "X-Num": "7", "Content-Length": "28"},
			wantNoHeader:   []string{"Content-Type"},
			wantCalls:      1,
			wantRecord:     records.Succeeded,
			wantRecordCode: 201,
			wantLog:        "GET /.netlify/functions/hello 201",
		},
		{
			name:       "function's content type kept",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{}"}`)),
			method:     "GET",
			path:       "/.netlify/functions/hello",
			wantStatus: 200,
			wantBody:   "{}",
			wantHeader: map[string]string{"Content-Type": "application/json"},
			wantCalls:  1,
			wantRecord: records.Succeeded,
		},
		{
			name:         "empty body",
			fn:           fn("hello", discover.KindSync, respond(`{"statusCode":204}`)),
			method:       "DELETE",
			path:         "/.netlify/functions/hello",
			wantStatus:   204,
			wantNoHeader: []string{"Content-Type"},
			wantCalls:    1,
			wantRecord:   records.Succeeded,
		},
		{
			name:       "HEAD has no body",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"something"}`)),
			method:     "HEAD",
			path:       "/.netlify/functions/hello",
			wantStatus: 200,
			wantHeader: map[string]string{"Content-Length": "9"},
			wantCalls:  1,
			wantRecord: records.Succeeded,
		},
		{
			name:       "base64 response body",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"AP8Q","isBase64Encoded":true}`)),
			method:     "GET",
			path:       "/.netlify/functions/hello",
			wantStatus: 200,
			wantBody:   "\x00\xff\x10",
			wantCalls:  1,
			wantRecord: records.Succeeded,
		},
		{
			name:       "sub path",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`)),
			method:     "GET",
			path:       "/.netlify/functions/hello/a/b?x=1",
			wantStatus: 200,
			wantBody:   "ok",
			wantCalls:  1,
			wantRecord: records.Succeeded,
		},
		{
			name:       "builders path, a builder",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok","metadata":{"version":1,"builder_function":true,"ttl":0}}`)),
			method:     "GET",
			path:       "/.netlify/builders/hello",
			wantStatus: 200,
			wantBody:   "ok",
			wantCalls:  1,
			wantRecord: records.Succeeded,
		},
		{
			// netlify-cli runs the function, then refuses the result.
			name:           "builders path, not a builder",
			fn:             fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`)),
			method:         "GET",
			path:           "/.netlify/builders/hello",
			wantStatus:     400,
			wantBody:       `{"message":"Function is not an on-demand builder. See https://ntl.fyi/create-builder for how to convert a function to a builder."}`,
			wantHeader:     map[string]string{"Content-Type": "application/json; charset=utf-8"},
			wantCalls:      1,
			wantRecord:     records.Failed,
			wantRecordCode: 400,
		},
		{
			name:       "builders path, POST",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok","metadata":{"builder_function":true}}`)),
			method:     "POST",
			path:       "/.netlify/builders/hello",
			wantStatus: 405,
			wantBody:   "Method Not Allowed",
			wantHeader: map[string]string{"Allow": "GET, HEAD"},
			wantCalls:  0,
		},
		{
			name:       "body at the sync limit",
			fn:         fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`)),
			opts:       testOptions{MaxBody: 16},
			method:     "POST",
			path:       "/.netlify/functions/hello",
			body:       strings.Repeat("a", 16),
			wantStatus: 200,
			wantBody:   "ok",
			wantCalls:  1,
			wantRecord: records.Succeeded,
		},
		{
			name:         "body over the sync limit",
			fn:           fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`)),
			opts:         testOptions{MaxBody: 16, MaxBackgroundBody: 1 << 20},
			method:       "POST",
			path:         "/.netlify/functions/hello",
			body:         strings.Repeat("a", 17),
			wantStatus:   413,
			wantContains: []string{"Payload Too Large", "function hello", "16 bytes"},
		},
		{
			name:         "body over the background limit",
			fn:           fn("hello-background", discover.KindBackground, respond(`{}`)),
			opts:         testOptions{MaxBody: 1 << 20, MaxBackgroundBody: 1 << 10},
			method:       "POST",
			path:         "/.netlify/functions/hello-background",
			body:         strings.Repeat("a", 1<<10+1),
			wantStatus:   413,
			wantContains: []string{"Payload Too Large", "background function hello-background", "1 KB"},
		},
		{
			name:         "body over the default background limit",
			fn:           fn("hello-background", discover.KindBackground, respond(`{}`)),
			method:       "POST",
			path:         "/.netlify/functions/hello-background",
			body:         strings.Repeat("a", 256<<10+1),
			wantStatus:   413,
			wantContains: []string{"256 KB"},
		},
		{
			name: "handler error",
			fn: fn("hello", discover.KindSync, throw(&runtime.FunctionError{
				Type: "Error", Message: "bad <input>", Stack: stack,
			})),
			method:         "GET",
			path:           "/.netlify/functions/hello",
			wantStatus:     500,
			wantBody:       wantTrace,
			wantHeader:     map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			wantCalls:      1,
			wantRecord:     records.Failed,
			wantRecordCode: 500,
			wantLog:        "⬥ Function hello has returned an error: Error: bad <input>",
		},
		{
			name: "handler error as HTML",
			fn: fn("hello", discover.KindSync, throw(&runtime.FunctionError{
				Type: "Error", Message: "bad <input>", Stack: stack,
			})),
			method:     "GET",
			path:       "/.netlify/functions/hello",
			headers:    map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
			wantStatus: 500,
			wantContains: []string{
				"<!doctype html>",
				"Function hello has returned an error",
				"<pre>Error: bad &lt;input&gt;\n at handler (/site/netlify/functions/hello.mjs:3:9)\n at run (/site/node_modules/lib/index.js:1:1)</pre>",
			},
			wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			wantCalls:  1,
			wantRecord: records.Failed,
		},
		{
			name:           "timeout",
			fn:             fn("hello", discover.KindSync, fail(&runtime.TimeoutError{Limit: time.Second})),
			method:         "GET",
			path:           "/.netlify/functions/hello",
			wantStatus:     500,
			wantBody:       "TimeoutError: Task timed out after 1.00 seconds",
			wantCalls:      1,
			wantRecord:     records.TimedOut,
			wantRecordCode: 500,
		},
		{
			name:       "worker exit",
			fn:         fn("hello", discover.KindSync, fail(&runtime.ExitError{Exit: "exited with code 1"})),
			method:     "POST",
			path:       "/.netlify/functions/hello",
			wantStatus: 500,
			wantBody:   "Error: worker exited with code 1 during invocation",
			wantCalls:  1,
			wantRecord: records.Failed,
		},
		{
			name:       "load error",
			fn:         fn("hello", discover.KindSync, fail(&runtime.InitError{Err: &runtime.FunctionError{Type: "SyntaxError", Message: "Unexpected token"}})),
			method:     "GET",
			path:       "/.netlify/functions/hello",
			wantStatus: 500,
			wantBody:   "SyntaxError: Unexpected token",
			wantCalls:  1,
			wantRecord: records.Failed,
		},
		{
			name: "undefined response",
			fn: fn("hello", discover.KindSync, func(context.Context, int, *runtime.Request) (*runtime.Result, error) {
				return &runtime.Result{Undefined: true}, nil
			}),
			method:     "GET",
			path:       "/.netlify/functions/hello",
			wantStatus: 500,
			wantBody:   "lambda response was undefined. check your function code again",
			wantCalls:  1,
			wantRecord: records.Failed,
		},
		{
			name:       "response without statusCode",
			fn:         fn("hello", discover.KindSync, respond(`{"body":"hi"}`)),
			method:     "GET",
			path:       "/.netlify/functions/hello",
			wantStatus: 500,
			wantBody:   "Your function response must have a numerical statusCode. You gave: undefined",
			wantCalls:  1,
			wantRecord: records.Failed,
		},
		{
			name: "build error",
			// What the invoker of a function that failed to build answers.
			fn:           fn("hello", discover.KindSync, fail(&runtime.FunctionError{Type: "BuildError", Message: "netlify/functions/hello.ts:2:5: Expected \";\""})),
			method:       "GET",
			path:         "/.netlify/functions/hello",
			wantStatus:   500,
			wantContains: []string{"BuildError: netlify/functions/hello.ts:2:5: Expected \";\""},
			wantCalls:    1,
			wantRecord:   records.Failed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Timeout = time.Second
			s, out := newServer(t, opts, tt.fn)
			url := serve(t, s)
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			res := do(t, tt.method, url+tt.path, body, tt.headers)

			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", res.status, tt.wantStatus, res.body)
			}
			if tt.wantContains != nil {
				for _, w := range tt.wantContains {
					if !strings.Contains(res.body, w) {
						t.Errorf("body = %q, want it to contain %q", res.body, w)
					}
				}
			} else if res.body != tt.wantBody {
				t.Errorf("body = %q, want %q", res.body, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := res.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.wantNoHeader {
				if v, ok := res.header[k]; ok {
					t.Errorf("header %s = %q, want none", k, v)
				}
			}
			if tt.fn != nil && tt.fn.Invoker != nil {
				if got := len(invoker(tt.fn).Calls()); got != tt.wantCalls {
					t.Errorf("invoked %d times, want %d", got, tt.wantCalls)
				}
			}
			all := s.opts.Records.List(records.Filter{})
			if tt.wantRecord == "" {
				if len(all) != 0 {
					t.Errorf("%d records, want none", len(all))
				}
			} else {
				if len(all) != 1 {
					t.Fatalf("%d records, want 1", len(all))
				}
				rec := all[0]
				if rec.Status != tt.wantRecord || rec.Function != tt.fn.Name || rec.Kind != "sync" || len(rec.Attempts) != 1 {
					t.Errorf("record = %s %s %s with %d attempts, want %s %s sync with 1",
						rec.Function, rec.Kind, rec.Status, len(rec.Attempts), tt.fn.Name, tt.wantRecord)
				}
				if tt.wantRecordCode != 0 && rec.StatusCode != tt.wantRecordCode {
					t.Errorf("record statusCode = %d, want %d", rec.StatusCode, tt.wantRecordCode)
				}
				if id := res.header.Get("X-Bgfn-Invocation-Id"); res.status < 500 && id != rec.ID {
					t.Errorf("X-Bgfn-Invocation-Id = %q, want the record's id %q", id, rec.ID)
				}
			}
			if tt.wantLog != "" && !strings.Contains(out.String(), tt.wantLog) {
				t.Errorf("terminal output %q lacks %q", out.String(), tt.wantLog)
			}
		})
	}
}

// TestHandlerSyncRequest checks what the invoker is given.
func TestHandlerSyncRequest(t *testing.T) {
	hello := fn("hello", discover.KindSync, respond(`{"statusCode":200}`))
	s, _ := newServer(t, testOptions{Timeout: 3 * time.Second, SiteID: "my-site"}, hello)
	url := serve(t, s)
	token := jwt(`{"alg":"HS256"}`, `{"sub":"u1"}`)
	res := do(t, "POST", url+"/.netlify/functions/hello/sub?a=1&a=2", strings.NewReader(`{"k":"v"}`), map[string]string{
		"Content-Type":    "application/json",
		"Authorization":   "Bearer " + token,
		"X-Forwarded-For": "203.0.113.1, 198.51.100.2",
		"Host":            "localhost:8888",
	})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	calls := invoker(hello).Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	c := calls[0]
	if c.timeout != 3*time.Second || c.background {
		t.Errorf("timeout %v background %v, want 3s and false", c.timeout, c.background)
	}
	if c.id != res.header.Get("X-Bgfn-Invocation-Id") || !regexp.MustCompile(`^[0-9a-f]{20}$`).MatchString(c.id) {
		t.Errorf("invocation id %q (header %q), want 20 hex digits, the same in both", c.id, res.header.Get("X-Bgfn-Invocation-Id"))
	}
	ev := c.event
	if ev.Path != "/.netlify/functions/hello/sub" || ev.HTTPMethod != "POST" || ev.Body == nil || *ev.Body != `{"k":"v"}` || ev.IsBase64Encoded {
		t.Errorf("event = %+v", ev)
	}
	if ev.QueryStringParameters["a"] != "1, 2" || ev.RawURL != "http://localhost:8888/.netlify/functions/hello/sub?a=1&a=2" {
		t.Errorf("query %v rawUrl %q", ev.QueryStringParameters, ev.RawURL)
	}
	for k, want := range map[string]string{"client-ip": "198.51.100.2", "x-nf-site-id": "my-site", "x-nf-request-id": c.id, "host": "localhost:8888"} {
		if got := ev.Headers[k]; got != want {
			t.Errorf("event header %s = %q, want %q", k, got, want)
		}
	}
	var cc struct {
		User map[string]any `json:"user"`
	}
	if err := json.Unmarshal(c.cc, &cc); err != nil || cc.User["sub"] != "u1" {
		t.Errorf("clientContext = %s (%v), want the token's claims", c.cc, err)
	}
}

// TestHandlerBodyWithoutLength covers a chunked request body, whose size
// is known only once read.
func TestHandlerBodyWithoutLength(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		wantStatus int
	}{
		{name: "under the limit", size: 10, wantStatus: 200},
		{name: "at the limit", size: 16, wantStatus: 200},
		{name: "over the limit", size: 40, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hello := fn("hello", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`))
			s, _ := newServer(t, testOptions{MaxBody: 16}, hello)
			req := httptest.NewRequest("POST", "/.netlify/functions/hello", strings.NewReader(strings.Repeat("x", tt.size)))
			req.ContentLength = -1
			req.Header.Set("Content-Type", "text/plain")
			rw := httptest.NewRecorder()
			s.ServeHTTP(rw, req)
			if rw.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", rw.Code, tt.wantStatus, rw.Body)
			}
			if tt.wantStatus == 200 {
				if got := *invoker(hello).Calls()[0].event.Body; len(got) != tt.size {
					t.Errorf("event body has %d bytes, want %d", len(got), tt.size)
				}
			}
		})
	}
}
