package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/proc"
	"github.com/bgfn-dev/bgfn/internal/runtime/nodeboot"
)

// These tests run the real bootstrap in real node processes.

// nodeEnv is what a NodeStarter test needs: node and the bootstrap on disk.
type nodeEnv struct {
	node      string
	bootstrap string
}

func needNode(t *testing.T) nodeEnv {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	boot := filepath.Join(t.TempDir(), "bootstrap.mjs")
	if err := os.WriteFile(boot, nodeboot.Source, 0o644); err != nil {
		t.Fatal(err)
	}
	return nodeEnv{node: node, bootstrap: boot}
}

// starter writes src as the function's bundle and returns a starter for it.
func (e nodeEnv) starter(t *testing.T, src string) *NodeStarter {
	t.Helper()
	dir := t.TempDir()
	entry := filepath.Join(dir, "fn.mjs")
	if err := os.WriteFile(entry, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return &NodeStarter{Config: NodeConfig{
		Node:      e.node,
		Bootstrap: e.bootstrap,
		Entry:     entry,
		Name:      "fn",
		Dir:       dir,
		Env:       []string{"PATH=" + os.Getenv("PATH")},
		Grace:     time.Second,
	}}
}

// start starts a worker and makes sure it is stopped and gone at the end.
func start(t *testing.T, s Starter) Worker {
	t.Helper()
	return startAll(t, s)[0]
}

// startAll starts one worker per starter, at the same time.
func startAll(t *testing.T, ss ...Starter) []Worker {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ws := make([]Worker, len(ss))
	errs := make([]error, len(ss))
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Go(func() { ws[i], errs[i] = s.Start(ctx) })
	}
	wg.Wait()
	for _, w := range ws {
		if w == nil {
			continue
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			w.Stop(ctx)
			waitGroupGone(t, w.Pid())
		})
	}
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	return ws
}

// logLine is one line a worker printed.
type logLine struct {
	s    Stream
	line string
}

func (l logLine) String() string {
	name := "stdout"
	if l.s == Stderr {
		name = "stderr"
	}
	return fmt.Sprintf("%s:%q", name, l.line)
}

// summary shows a few lines of a long list.
func summary(lines []logLine) string {
	if len(lines) <= 6 {
		return fmt.Sprint(lines)
	}
	return fmt.Sprintf("%v ... %v", lines[:3], lines[len(lines)-3:])
}

// logRecorder collects an invocation's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []logLine
}

func (r *logRecorder) log(s Stream, line []byte) {
	r.mu.Lock()
	r.lines = append(r.lines, logLine{s, string(line)})
	r.mu.Unlock()
}

func (r *logRecorder) get() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

func invokeReq(id, event string, timeout time.Duration, log LogFunc) *Request {
	return &Request{ID: id, Event: json.RawMessage(event), Timeout: timeout, Log: log}
}

// resultModules are the bundles TestNodeWorkerResult runs; the v1 one
// picks its behaviour from the event so one warm worker serves many cases.
var resultModules = map[string]string{
	"v1": `export async function handler(e, ctx) {
		switch (e.case) {
		case "echo": return {statusCode: 200, body: JSON.stringify(e)}
		case "undefined": return
		case "null": return null
		case "throw": throw new TypeError("bad input")
		case "throw string": throw "just a string"
		case "context": return {id: ctx.awsRequestId, fn: ctx.functionName, left: ctx.getRemainingTimeInMillis() > 0}
		}
	}`,
	"callback": `export function handler(e, ctx, cb) { setTimeout(() => cb(null, {statusCode: 201, body: ctx.awsRequestId}), 1) }`,
	"cjs":      `export default { handler: async () => ({statusCode: 204}) }`,
	"v2": `export default async (req) => new Response("via " + req.method + " " + new URL(req.url).pathname,
		{status: 202, headers: {"content-type": "text/plain"}})`,
}

func TestNodeWorkerResult(t *testing.T) {
	env := needNode(t)
	tests := []struct {
		name      string
		module    string
		event     string
		want      string // Response; {{id}} stands for the request id
		undefined bool
		fnErr     *FunctionError
	}{
		{
			name:   "v1 echoes the event",
			module: "v1",
			event:  `{"case":"echo","path":"/x","body":"hé \"quoted\"\n"}`,
			want:   `{"statusCode":200,"body":"{\"case\":\"echo\",\"path\":\"/x\",\"body\":\"hé \\\"quoted\\\"\\n\"}"}`,
		},
		{name: "v1 undefined", module: "v1", event: `{"case":"undefined"}`, undefined: true},
		{name: "v1 null is kept", module: "v1", event: `{"case":"null"}`, want: `null`},
		{name: "v1 context", module: "v1", event: `{"case":"context"}`, want: `{"id":"{{id}}","fn":"fn","left":true}`},
		{name: "v1 throws", module: "v1", event: `{"case":"throw"}`, fnErr: &FunctionError{Type: "TypeError", Message: "bad input"}},
		{name: "v1 throws a string", module: "v1", event: `{"case":"throw string"}`, fnErr: &FunctionError{Type: "Error", Message: "just a string"}},
		{name: "v1 callback", module: "callback", event: `{}`, want: `{"statusCode":201,"body":"{{id}}"}`},
		{name: "commonjs shape", module: "cjs", event: `{}`, want: `{"statusCode":204}`},
		{
			name:   "v2 response",
			module: "v2",
			event:  `{"httpMethod":"PUT","path":"/a/b","rawUrl":"http://localhost:8888/a/b","headers":{}}`,
			want:   `{"statusCode":202,"multiValueHeaders":{"content-type":["text/plain"]},"body":"via PUT /a/b","isBase64Encoded":false}`,
		},
	}
	var names []string
	var starters []Starter
	for name, src := range resultModules {
		names = append(names, name)
		starters = append(starters, env.starter(t, src))
	}
	workers := map[string]Worker{}
	for i, w := range startAll(t, starters...) {
		workers[names[i]] = w
	}
	n := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := workers[tt.module]
			// Twice: each case also runs on a worker that already ran one.
			for range 2 {
				n++
				id := fmt.Sprint("id-", n)
				res, err := w.Invoke(t.Context(), invokeReq(id, tt.event, 5*time.Second, nil))
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				if res.Pid != w.Pid() {
					t.Errorf("Result.Pid = %d, want %d", res.Pid, w.Pid())
				}
				if res.Undefined != tt.undefined {
					t.Errorf("Undefined = %v, want %v", res.Undefined, tt.undefined)
				}
				if tt.fnErr != nil {
					if res.Error == nil || res.Error.Type != tt.fnErr.Type || res.Error.Message != tt.fnErr.Message {
						t.Fatalf("Error = %+v, want %+v", res.Error, tt.fnErr)
					}
					continue
				}
				if res.Error != nil {
					t.Fatalf("Error = %v", res.Error)
				}
				if tt.undefined {
					if res.Response != nil {
						t.Errorf("Response = %s, want nil when undefined", res.Response)
					}
					continue
				}
				if got, want := string(res.Response), strings.ReplaceAll(tt.want, "{{id}}", id); got != want {
					t.Errorf("Response = %s\nwant       %s", got, want)
				}
			}
		})
	}
}

func TestNodeWorkerLogs(t *testing.T) {
	env := needNode(t)
	// One worker runs every case in turn: lines must land in the
	// invocation that printed them, never in the next one.
	w := start(t, env.starter(t, `export const handler = async (e) => {
		switch (e.case) {
		case "both":
			console.log("out", e.n)
			console.error("err", e.n)
			console.log("out again")
			break
		case "partial":
			process.stdout.write("no newline " + e.n)
			process.stderr.write("half")
			break
		case "await":
			await new Promise((r) => setTimeout(r, 5))
			console.log("late", e.n)
			break
		case "throw":
			console.warn("about to fail", e.n)
			throw new Error("nope")
		case "crlf":
			process.stdout.write("windows " + e.n + "\r\n")
			break
		}
		return {statusCode: 200}
	}`))
	tests := []struct {
		name string
		want []logLine // N stands for the invocation number
	}{
		{"both", []logLine{{Stdout, "out N"}, {Stderr, "err N"}, {Stdout, "out again"}}},
		{"partial", []logLine{{Stdout, "no newline N"}, {Stderr, "half"}}},
		{"await", []logLine{{Stdout, "late N"}}},
		{"throw", []logLine{{Stderr, "about to fail N"}}},
		{"crlf", []logLine{{Stdout, "windows N"}}},
		{"quiet", nil},
	}
	n := 0
	for round := range 2 {
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.name, "/", round), func(t *testing.T) {
				n++
				var rec logRecorder
				res, err := w.Invoke(t.Context(), invokeReq(fmt.Sprint("id-", n), fmt.Sprintf(`{"case":%q,"n":%d}`, tt.name, n), 5*time.Second, rec.log))
				// Snapshot at once: every line must be there when Invoke
				// returns.
				got := rec.get()
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				if res.Pid != w.Pid() {
					t.Errorf("Result.Pid = %d, want %d", res.Pid, w.Pid())
				}
				var want []logLine
				for _, l := range tt.want {
					want = append(want, logLine{l.s, strings.ReplaceAll(l.line, "N", fmt.Sprint(n))})
				}
				// Order across the two streams is not defined; within one it is.
				for _, s := range []Stream{Stdout, Stderr} {
					if g, w := onStream(got, s), onStream(want, s); !slices.Equal(g, w) {
						t.Errorf("stream %d: got %q, want %q", s, g, w)
					}
				}
			})
		}
	}
}

func onStream(lines []logLine, s Stream) []string {
	var out []string
	for _, l := range lines {
		if l.s == s {
			out = append(out, l.line)
		}
	}
	return out
}

func TestNodeWorkerManyLogLines(t *testing.T) {
	env := needNode(t)
	w := start(t, env.starter(t, `export const handler = async (e) => {
		for (let i = 0; i < e.n; i++) console.log("line " + i + " " + "x".repeat(i % 300))
		process.stdout.write("y".repeat(70000) + "\n")
		return {statusCode: 200}
	}`))
	const n = 3000
	var rec logRecorder
	if _, err := w.Invoke(t.Context(), invokeReq("big", fmt.Sprintf(`{"n":%d}`, n), 10*time.Second, rec.log)); err != nil {
		t.Fatal(err)
	}
	got := onStream(rec.get(), Stdout)
	if len(got) < n+2 {
		t.Fatalf("got %d lines before Invoke returned, want %d lines and a long one cut in two", len(got), n)
	}
	for i := range n {
		if want := fmt.Sprintf("line %d %s", i, strings.Repeat("x", i%300)); got[i] != want {
			t.Fatalf("line %d = %.40q, want %.40q", i, got[i], want)
		}
	}
	if long := strings.Join(got[n:], ""); long != strings.Repeat("y", 70000) {
		t.Errorf("long line came back as %d pieces of %d bytes in all", len(got[n:]), len(long))
	}
}

func TestNodeIdleLog(t *testing.T) {
	// Lines printed at import time, or by a timer after the invocation
	// answered, belong to no invocation: they go to IdleLog, and the first
	// invocation's Log gets only what the invocation printed.
	env := needNode(t)
	manyLines := make([]logLine, 2000)
	for i := range manyLines {
		manyLines[i] = logLine{Stdout, fmt.Sprint("loading ", i)}
	}
	tests := []struct {
		name     string
		src      string
		wantIdle []logLine
		wantLog  []logLine
	}{
		{
			name:     "timer after the answer",
			src:      `export const handler = async () => { setTimeout(() => console.error("after"), 20); return 1 }`,
			wantIdle: []logLine{{Stderr, "after"}},
		},
		{
			name: "many lines at import",
			src: `for (let i = 0; i < 2000; i++) console.log("loading " + i)
				export const handler = async () => 1`,
			wantIdle: manyLines,
		},
		{
			name: "partial line at import",
			src: `process.stdout.write("loading...")
				export const handler = async () => { console.log("handling"); return 1 }`,
			wantIdle: []logLine{{Stdout, "loading..."}},
			wantLog:  []logLine{{Stdout, "handling"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := env.starter(t, tt.src)
			var idle logRecorder
			s.Config.IdleLog = idle.log
			w := start(t, s)
			var rec logRecorder
			if _, err := w.Invoke(t.Context(), invokeReq("a", `{}`, 5*time.Second, rec.log)); err != nil {
				t.Fatal(err)
			}
			if got := rec.get(); !slices.Equal(got, tt.wantLog) {
				t.Errorf("the invocation's Log got %d lines %s, want %s", len(got), summary(got), summary(tt.wantLog))
			}
			deadline := time.Now().Add(3 * time.Second)
			for len(idle.get()) < len(tt.wantIdle) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := idle.get(); !slices.Equal(got, tt.wantIdle) {
				t.Errorf("IdleLog got %d lines %s, want %d lines %s", len(got), summary(got), len(tt.wantIdle), summary(tt.wantIdle))
			}
		})
	}
}

func TestNodeWorkerFailures(t *testing.T) {
	env := needNode(t)
	tests := []struct {
		name    string
		src     string
		timeout time.Duration
		check   func(t *testing.T, err error)
	}{
		{
			name:    "process.exit",
			src:     `export const handler = async () => { console.log("bye"); process.exit(3) }`,
			timeout: 5 * time.Second,
			check: func(t *testing.T, err error) {
				var ee *ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("err = %T %v, want *ExitError", err, err)
				}
				if got, want := err.Error(), "worker exited with code 3 during invocation"; got != want {
					t.Errorf("err = %q, want %q", got, want)
				}
			},
		},
		{
			name:    "uncaught exception outside the handler",
			src:     `export const handler = async () => { setTimeout(() => { throw new Error("boom") }, 1); await new Promise(() => {}) }`,
			timeout: 5 * time.Second,
			check: func(t *testing.T, err error) {
				if got, want := err.Error(), "worker exited with code 1 during invocation"; got != want {
					t.Errorf("err = %q, want %q", got, want)
				}
			},
		},
		{
			name: "timeout kills the group",
			// The child shares the worker's process group and must go too.
			src: `import { spawn } from "node:child_process"
				export const handler = async () => {
					spawn("sleep", ["30"], {stdio: "ignore"})
					console.log("hanging")
					await new Promise(() => {})
				}`,
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, err error) {
				var te *TimeoutError
				if !errors.As(err, &te) {
					t.Fatalf("err = %T %v, want *TimeoutError", err, err)
				}
				if te.Limit != 300*time.Millisecond {
					t.Errorf("Limit = %v, want 300ms", te.Limit)
				}
				if got, want := err.Error(), "Task timed out after 0.30 seconds"; got != want {
					t.Errorf("err = %q, want %q", got, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := start(t, env.starter(t, tt.src))
			var rec logRecorder
			begin := time.Now()
			res, err := w.Invoke(t.Context(), invokeReq("x", `{}`, tt.timeout, rec.log))
			if err == nil {
				t.Fatalf("Invoke succeeded: %+v", res)
			}
			if tt.timeout < time.Second {
				if d := time.Since(begin); d < tt.timeout || d > tt.timeout+3*time.Second {
					t.Errorf("Invoke returned after %v, want about %v", d, tt.timeout)
				}
			}
			tt.check(t, err)
			select {
			case <-w.Done():
			default:
				t.Error("Done is not closed after the worker failed")
			}
			waitGroupGone(t, w.Pid())
			// A dead worker refuses further invocations.
			if _, err := w.Invoke(t.Context(), invokeReq("y", `{}`, time.Second, nil)); err == nil {
				t.Error("Invoke on a dead worker succeeded")
			}
		})
	}
}

func TestNodeWorkerContextCancel(t *testing.T) {
	env := needNode(t)
	w := start(t, env.starter(t, `export const handler = () => new Promise(() => {})`))
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := w.Invoke(ctx, invokeReq("x", `{}`, time.Minute, nil))
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Invoke = %v, want context.Canceled", err)
	}
	waitGroupGone(t, w.Pid())
}

func TestNodeStarterInitError(t *testing.T) {
	env := needNode(t)
	tests := []struct {
		name     string
		src      string
		wantType string
		wantMsg  string // substring of the message
	}{
		{"throw at import", `throw new RangeError("config missing")` + "\nexport const handler = () => 1", "RangeError", "config missing"},
		{"syntax error", `export const handler = () => {`, "SyntaxError", ""},
		{"no handler", `export const notAHandler = 1`, "Runtime.HandlerNotFound", "does not export a handler"},
		{"exit at import", `process.exit(5)`, "Runtime.ExitError", "worker exited with code 5 before it was ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := env.starter(t, tt.src)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			w, err := s.Start(ctx)
			if err == nil {
				w.Stop(ctx)
				t.Fatal("Start succeeded")
			}
			var ie *InitError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %T %v, want *InitError", err, err)
			}
			if ie.Err.Type != tt.wantType || !strings.Contains(ie.Err.Message, tt.wantMsg) {
				t.Errorf("InitError = %s: %s, want %s containing %q", ie.Err.Type, ie.Err.Message, tt.wantType, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "load function: "+tt.wantType) {
				t.Errorf("err = %q", err)
			}
		})
	}
}

func TestNodeWorkerStop(t *testing.T) {
	env := needNode(t)
	tests := []struct {
		name string
		src  string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{
			name: "exits on EOF",
			src:  `export const handler = async () => 1`,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 5*time.Second)
			},
		},
		{
			name: "expired context kills",
			src:  `export const handler = async () => 1`,
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
		},
		{
			name: "child processes go too",
			src: `import { spawn } from "node:child_process"
				spawn("sleep", ["30"], {stdio: "ignore"})
				export const handler = async () => 1`,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 5*time.Second)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := start(t, env.starter(t, tt.src))
			if _, err := w.Invoke(t.Context(), invokeReq("a", `{}`, 5*time.Second, nil)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			if err := w.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			select {
			case <-w.Done():
			default:
				t.Error("Stop returned before Done was closed")
			}
			waitGroupGone(t, w.Pid())
			// Stopping twice is harmless.
			if err := w.Stop(ctx); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestNodeStarterInitTimeout(t *testing.T) {
	env := needNode(t)
	// The timer keeps the event loop alive, as a connection that never
	// opens would; the await never settles.
	s := env.starter(t, `import { writeFileSync } from 'node:fs'
writeFileSync(process.env.PID_FILE, String(process.pid))
setInterval(() => {}, 1000)
await new Promise(() => {})
export const handler = () => 1`)
	pidFile := filepath.Join(t.TempDir(), "pid")
	s.Config.Env = append(s.Config.Env, "PID_FILE="+pidFile)
	s.Config.InitTimeout = 500 * time.Millisecond
	begin := time.Now()
	w, err := s.Start(t.Context())
	if err == nil {
		w.Stop(t.Context())
		t.Fatal("Start succeeded")
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Start took %v with a 500ms init limit", took)
	}
	var ie *InitError
	if !errors.As(err, &ie) || ie.Err.Type != "Runtime.InitTimeout" ||
		!strings.Contains(ie.Err.Message, `worker for "fn" did not become ready within 500ms`) ||
		!strings.Contains(ie.Err.Message, "top-level await") {
		t.Fatalf("err = %v, want an init timeout naming the function", err)
	}
	assertGone(t, pidFile)
}

// assertGone waits until the process group whose leader wrote its pid to
// pidFile is gone.
func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file: %q", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for proc.GroupAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("worker group %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
