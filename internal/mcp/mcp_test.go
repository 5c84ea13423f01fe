package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/records"
)

// fakeBgfn is a bgfn API over a real records store, with one function and
// a record that never ends, that reports when a wait request arrives and
// when its context ends.
type fakeBgfn struct {
	url       string
	waiting   chan struct{}
	waitEnded chan struct{}
}

func newFake(t *testing.T) *fakeBgfn {
	t.Helper()
	st, err := records.NewStore(10, "")
	if err != nil {
		t.Fatal(err)
	}
	r := st.New(records.Spec{ID: "endless", Function: "slow-background", Kind: "background", MaxAttempts: 3})
	r.StartAttempt()
	h := api.New(api.Options{
		Records: st,
		Functions: func() []api.Function {
			return []api.Function{{Name: "hello", Kind: "sync", Runtime: "js", Entry: "/s/fns/hello.js", Source: "fns/hello.js", Build: api.Build{State: api.BuildOK}}}
		},
		Config:  func() api.Config { return api.Config{Env: []api.EnvVar{}} },
		Control: noControl{},
	})
	f := &fakeBgfn{waiting: make(chan struct{}, 10), waitEnded: make(chan struct{}, 10)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/wait") {
			f.waiting <- struct{}{}
			defer func() {
				if r.Context().Err() != nil {
					f.waitEnded <- struct{}{}
				}
			}()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// noControl is a queue that holds no background invocation.
type noControl struct{}

func (noControl) Cancel(id string) (*records.Record, error) {
	return nil, errors.New("no such background invocation")
}
func (noControl) RetryNow(id string) (*records.Record, error) {
	return nil, errors.New("no such background invocation")
}

var impl = &sdk.Implementation{Name: "bgfn-test", Version: "v0"}

// inMemory connects a client to a server for the fake over in-memory
// transports.
func inMemory(t *testing.T, f *fakeBgfn) *sdk.ClientSession {
	t.Helper()
	ct, st := sdk.NewInMemoryTransports()
	ss, err := NewServer(Options{Target: URL(f.url), Version: "test"}).Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// overHTTP connects a client to the Streamable HTTP handler for the fake.
func overHTTP(t *testing.T, f *fakeBgfn, done <-chan struct{}) (*sdk.ClientSession, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(NewHTTPHandler(Options{Target: URL(f.url), Version: "test"}, done))
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), &sdk.StreamableClientTransport{Endpoint: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, srv
}

func textOf(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// A client that cancels a long wait ends the API request the tool waits
// on, over both transports.
func TestCancelLongWait(t *testing.T) {
	for _, transport := range []string{"in-memory", "http"} {
		t.Run(transport, func(t *testing.T) {
			f := newFake(t)
			var cs *sdk.ClientSession
			if transport == "http" {
				var srv *httptest.Server
				cs, srv = overHTTP(t, f, nil)
				t.Cleanup(srv.Close)
				t.Cleanup(func() { cs.Close() })
			} else {
				cs = inMemory(t, f)
			}
			ctx, cancel := context.WithCancel(t.Context())
			called := make(chan error, 1)
			go func() {
				_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "wait_invocation", Arguments: map[string]any{"id": "endless", "timeout": "10m"}})
				called <- err
			}()
			select {
			case <-f.waiting:
			case <-time.After(10 * time.Second):
				t.Fatal("the tool never asked the API to wait")
			}
			cancel()
			select {
			case <-f.waitEnded:
			case <-time.After(10 * time.Second):
				t.Fatal("the API's wait request was not cancelled after the client cancelled the call")
			}
			if err := <-called; err == nil {
				t.Error("the cancelled call returned no error")
			}
			// The session goes on.
			res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "list_functions"})
			if err != nil || res.IsError {
				t.Fatalf("list_functions after the cancel: %v %s", err, textOf(res))
			}
		})
	}
}

// Closing done (bgfn is stopping) closes every session, so the HTTP
// server's shutdown is not held up by their streams.
func TestHTTPSessionsEndAtShutdown(t *testing.T) {
	f := newFake(t)
	done := make(chan struct{})
	cs, srv := overHTTP(t, f, done)
	defer cs.Close()
	if _, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "list_functions"}); err != nil {
		t.Fatal(err)
	}
	close(done)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the HTTP server could not close: an MCP stream is still open")
	}
}

// Bad arguments are tool errors that name the argument; the session goes
// on after each.
func TestBadArguments(t *testing.T) {
	cs := inMemory(t, newFake(t))
	tests := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"invoke_function", map[string]any{}, "name"},
		{"invoke_function", map[string]any{"name": "helo"}, `invalid argument name: no function "helo" (did you mean "hello"?)`},
		{"invoke_function", map[string]any{"name": 42}, "name"},
		{"invoke_function", map[string]any{"name": "hello", "wait_timeout": "soon"}, "invalid argument wait_timeout"},
		{"invoke_function", map[string]any{"name": "hello", "wait_timeout": "2h"}, "invalid argument wait_timeout"},
		{"invoke_function", map[string]any{"name": "hello", "method": "GE T"}, "invalid argument method"},
		{"invoke_function", map[string]any{"name": "hello", "body": "%%%", "body_base64": true}, "invalid argument body"},
		{"invoke_function", map[string]any{"name": "hello", "headers": map[string]any{"Bad Name": "x"}}, "invalid argument headers"},
		{"invoke_function", map[string]any{"name": "hello", "bogus": 1}, "bogus"},
		{"trigger_event", map[string]any{}, `missing properties: ["event"]`},
		{"trigger_event", map[string]any{"event": "deploy-succeded"}, `invalid argument event: unknown platform event "deploy-succeded": use one of deploy-building,`},
		{"trigger_event", map[string]any{"event": "deploy-succeeded"}, "invalid argument event: no function handles deploy-succeeded: name a function deploy-succeeded.mjs, or give a v2 function `export default { deploySucceeded(event)"},
		{"trigger_event", map[string]any{"event": "identity-signup", "function": "helo"}, `invalid argument function: no function "helo" (did you mean "hello"?)`},
		{"trigger_event", map[string]any{"event": "identity-signup", "wait_timeout": "2h"}, "invalid argument wait_timeout"},
		{"get_invocation", map[string]any{"id": ""}, "invalid argument id"},
		{"get_invocation", map[string]any{"id": "nope"}, `invalid argument id: no invocation "nope"`},
		{"get_invocation", map[string]any{"id": "../x"}, "invalid argument id"},
		{"wait_invocation", map[string]any{"id": "endless", "timeout": "-1s"}, "invalid argument timeout"},
		{"replay_invocation", map[string]any{"id": "nope"}, "invalid argument id"},
		{"cancel_invocation", map[string]any{"id": ""}, "invalid argument id"},
		{"cancel_invocation", map[string]any{"id": "nope"}, `invalid argument id: no invocation "nope"`},
		{"list_invocations", map[string]any{"status": "done"}, "invalid argument status"},
		{"list_invocations", map[string]any{"limit": 5000}, "invalid argument limit"},
		{"tail_logs", map[string]any{"cursor": -3}, "invalid argument cursor"},
		{"tail_logs", map[string]any{"limit": 0.5}, "limit"},
		{"tail_logs", map[string]any{"limit": 20000}, "invalid argument limit"},
		{"blobs_get", map[string]any{"key": "a"}, "invalid argument store"},
		{"blobs_get", map[string]any{"store": "a/b", "key": "a"}, "invalid argument store"},
		{"blobs_get", map[string]any{"store": "s", "key": "../etc/passwd"}, "invalid argument key"},
		{"blobs_get", map[string]any{"store": "s", "key": "k", "max_bytes": -1}, "invalid argument max_bytes"},
		{"blobs_set", map[string]any{"store": "s", "key": "", "value": "v"}, "invalid argument key"},
		{"blobs_set", map[string]any{"store": "s", "key": "k", "value": "v", "metadata": map[string]any{"big": strings.Repeat("x", 3000)}}, "invalid argument metadata"},
		{"blobs_set", map[string]any{"store": "s", "key": "k", "value": "!", "base64": true}, "invalid argument value"},
		{"blobs_delete", map[string]any{"store": "s", "key": "/lead"}, "invalid argument key"},
		{"blobs_list", map[string]any{"prefix": "a/"}, "invalid argument store"},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(tt.args)
		t.Run(tt.tool+" "+string(b), func(t *testing.T) {
			res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: tt.tool, Arguments: tt.args})
			if err != nil {
				t.Fatalf("protocol error instead of a tool error: %v", err)
			}
			if !res.IsError || !strings.Contains(textOf(res), tt.want) {
				t.Fatalf("IsError %v, text %q; want a tool error containing %q", res.IsError, textOf(res), tt.want)
			}
		})
	}
	if res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "list_functions"}); err != nil || res.IsError {
		t.Fatalf("list_functions after the bad calls: %v %s", err, textOf(res))
	}
}

// A tool that panics answers a tool error, and the server goes on.
func TestPanicIsAToolError(t *testing.T) {
	f := newFake(t)
	s := sdk.NewServer(impl, nil)
	b := &bgfn{target: URL(f.url), server: s}
	add(s, b, spec{name: "boom", desc: "panics"}, func(context.Context, *apiclient.Client, struct{}) (struct{}, string, error) {
		var m map[string]int
		m["x"] = 1
		return struct{}{}, "", nil
	})
	add(s, b, spec{name: "fine", desc: "works"}, func(context.Context, *apiclient.Client, struct{}) (struct{}, string, error) {
		return struct{}{}, "fine", nil
	})
	ct, st := sdk.NewInMemoryTransports()
	if _, err := s.Connect(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "boom"})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "tool boom failed: assignment to entry in nil map") {
		t.Fatalf("boom: %v %+v", err, res)
	}
	if res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "fine"}); err != nil || res.IsError || textOf(res) != "fine" {
		t.Fatalf("fine after boom: %v %+v", err, res)
	}
}

// Every tool and every argument is described for a model, and each has
// an output schema.
func TestSchemasAreDescribed(t *testing.T) {
	cs := inMemory(t, newFake(t))
	n := 0
	for tool, err := range cs.Tools(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(tool.Description) < 40 || tool.OutputSchema == nil || tool.Annotations == nil {
			t.Errorf("%s: description %q, output schema %v, annotations %v", tool.Name, tool.Description, tool.OutputSchema != nil, tool.Annotations)
		}
		b, _ := json.Marshal(tool.InputSchema)
		var in struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		json.Unmarshal(b, &in)
		for name, p := range in.Properties {
			if p.Description == "" {
				t.Errorf("%s: argument %s has no description", tool.Name, name)
			}
		}
	}
	if n != 14 {
		t.Errorf("%d tools, want 14", n)
	}
}

// A browser page of another origin cannot use the endpoint, nor can a
// request whose Host is not the loopback one (DNS rebinding).
func TestHTTPRefusesOtherOrigins(t *testing.T) {
	f := newFake(t)
	srv := httptest.NewServer(NewHTTPHandler(Options{Target: URL(f.url)}, nil))
	defer srv.Close()
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	post := func(header map[string]string, host string) int {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(init))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(nil, ""); got != http.StatusOK {
		t.Fatalf("an agent's initialize: %d, want 200", got)
	}
	for name, c := range map[string]struct {
		header map[string]string
		host   string
	}{
		"cross-site fetch":     {header: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"foreign origin":       {header: map[string]string{"Origin": "http://evil.example"}},
		"DNS rebinding (Host)": {host: "evil.example"},
	} {
		if got := post(c.header, c.host); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, got)
		}
	}
}
