//go:build linux

// The end-to-end tests: the SDK's own client against the real bgfn binary
// (built once by TestMain) on testdata/sites/mcp, through the Streamable
// HTTP endpoint of a `bgfn dev` and through `bgfn mcp` over stdio. They
// read /proc to find the processes bgfn started, so they run on Linux.
package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// bgfnBin is the bgfn binary the tests run.
var bgfnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bgfn-mcp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bgfnBin = filepath.Join(dir, "bgfn")
	build := exec.Command("go", "build", "-o", bgfnBin, "github.com/bgfn-dev/bgfn/cmd/bgfn")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bgfn: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// copySite copies testdata/sites/NAME into a temporary folder.
func copySite(t *testing.T, name string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sites", name))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), name)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == ".netlify":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// lockedBuffer is a process's output, written by exec's copying goroutine
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls until the output contains s, at most d.
func (l *lockedBuffer) waitFor(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// devServer is a `bgfn dev` the test started.
type devServer struct {
	url string
	cmd *exec.Cmd
	out *lockedBuffer
	// exited is closed when the process has been waited for.
	exited chan struct{}
	err    error
}

func startDev(t *testing.T, dir string, args ...string) *devServer {
	t.Helper()
	d := &devServer{out: new(lockedBuffer), exited: make(chan struct{})}
	d.cmd = exec.Command(bgfnBin, append([]string{"dev", "--dir", dir, "--port", "0", "--no-watch"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.exited
		if t.Failed() {
			t.Logf("bgfn dev output:\n%s", d.out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := site.ReadState(dir); err == nil && st.URL != "" {
			d.url = st.URL
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("bgfn dev exited: %v\n%s", d.err, d.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bgfn dev did not start in 30s:\n%s", d.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// session wraps a client session with checks, and keeps every answer so
// the test can look for what must never be in one.
type session struct {
	t  *testing.T
	cs *sdk.ClientSession
	mu sync.Mutex
	// seen holds every result's text and structured content.
	seen bytes.Buffer
}

// call calls a tool that must succeed and decodes its structured result
// into out.
func (s *session) call(tool string, args map[string]any, out any) string {
	s.t.Helper()
	res := s.raw(tool, args)
	if res.IsError {
		s.t.Fatalf("%s %v: tool error: %s", tool, args, textOf(res))
	}
	if res.StructuredContent == nil {
		s.t.Fatalf("%s: no structured content", tool)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s: decode %s: %v", tool, b, err)
		}
	}
	if textOf(res) == "" {
		s.t.Fatalf("%s: no text summary", tool)
	}
	return textOf(res)
}

func (s *session) raw(tool string, args map[string]any) *sdk.CallToolResult {
	s.t.Helper()
	res, err := s.cs.CallTool(s.t.Context(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		s.t.Fatalf("%s %v: %v", tool, args, err)
	}
	b, _ := json.Marshal(res)
	s.mu.Lock()
	s.seen.Write(b)
	s.mu.Unlock()
	return res
}

// toolError calls a tool that must answer a tool error containing want.
func (s *session) toolError(tool string, args map[string]any, want string) {
	s.t.Helper()
	res := s.raw(tool, args)
	if !res.IsError || !strings.Contains(textOf(res), want) {
		s.t.Fatalf("%s %v: IsError %v, %q; want a tool error with %q", tool, args, res.IsError, textOf(res), want)
	}
}

func hasLog(logs []records.LogLine, line string) bool {
	for _, l := range logs {
		if l.Line == line {
			return true
		}
	}
	return false
}

// exercise calls every tool against the fixture site and checks the
// structured results.
func exercise(t *testing.T, s *session, dir string) {
	// list_functions: kinds, runtimes, routes, events, files, builds. bgfn
	// dev serves before slow start-up builds end; wait until none is
	// still building.
	var fns listFunctionsOut
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fns = listFunctionsOut{}
		s.call("list_functions", nil, &fns)
		building := false
		for _, f := range fns.Functions {
			building = building || f.Build.State == "building"
		}
		if !building || time.Now().After(deadline) {
			break
		}
	}
	byName := map[string]api.Function{}
	for _, f := range fns.Functions {
		byName[f.Name] = f
	}
	want := []string{"big", "broken", "deploy-succeeded", "fail-background", "hello", "loud-background", "route"}
	var names []string
	for _, f := range fns.Functions {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("functions %v, want %v", names, want)
	}
	hello := byName["hello"]
	if hello.Kind != "sync" || hello.Runtime != "js" || hello.Build.State != "ok" || hello.Entry != filepath.Join(dir, "functions", "hello.js") || hello.Source != "functions/hello.js" {
		t.Errorf("hello = %+v", hello)
	}
	if _, err := os.Stat(hello.Output); err != nil || !strings.HasPrefix(hello.Output, filepath.Join(dir, ".netlify", "bgfn")) {
		t.Errorf("hello's build output %q: %v", hello.Output, err)
	}
	if b := byName["broken"].Build; b.State != "failed" || !strings.Contains(b.Error, "broken.js") || byName["broken"].Output != "" {
		t.Errorf("broken's build = %+v", b)
	}
	if r := byName["route"]; !slices.Equal(r.Routes, []string{"/api/greet"}) || r.Runtime != "js" {
		t.Errorf("route = %+v", r)
	}
	if e := byName["deploy-succeeded"].Events; !slices.Equal(e, []string{"deploy-succeeded"}) {
		t.Errorf("deploy-succeeded's events = %v", e)
	}
	if k := byName["fail-background"].Kind; k != "background" {
		t.Errorf("fail-background's kind = %s", k)
	}

	// invoke_function, synchronous: status, headers, body, id, logs.
	var inv invokeOut
	s.call("invoke_function", map[string]any{"name": "hello", "method": "GET", "query": "name=Ada"}, &inv)
	if inv.Status != 200 || !strings.Contains(inv.Body, "Hello, Ada!") || inv.Headers["Content-Type"] != "application/json" ||
		inv.InvocationID == "" || inv.State != records.Succeeded || !inv.Finished || !hasLog(inv.Logs, "hello called for Ada") || inv.Path != "/.netlify/functions/hello?name=Ada" {
		t.Errorf("invoke hello = %+v", inv)
	}
	helloID := inv.InvocationID
	s.call("invoke_function", map[string]any{"name": "route"}, &inv)
	if inv.Status != 200 || inv.Body != "routed /api/greet" || inv.Path != "/api/greet" || inv.Method != "POST" {
		t.Errorf("invoke route = %+v", inv)
	}
	s.call("invoke_function", map[string]any{"name": "big"}, &inv)
	if !inv.BodyTruncated || len(inv.Body) != 64<<10 || inv.BodyBytes != 100000 {
		t.Errorf("invoke big: truncated %v, %d of %d bytes", inv.BodyTruncated, len(inv.Body), inv.BodyBytes)
	}
	s.call("invoke_function", map[string]any{"name": "deploy-succeeded", "body": `{"extra":1}`}, &inv)
	if inv.Body != `["extra","payload","site"]` {
		t.Errorf("invoke deploy-succeeded answered %q, want the sample event's keys", inv.Body)
	}
	// trigger_event: the legacy function named after the event gets the
	// realistic sample (not netlify-cli's TODO placeholders) and the
	// x-netlify-event header.
	var trig triggerOut
	ttext := s.call("trigger_event", map[string]any{"event": "deploy-succeeded"}, &trig)
	if trig.Slug != "deploy_succeeded" || len(trig.Results) != 1 || trig.Results[0].Function != "deploy-succeeded" ||
		trig.Results[0].Status != 200 || trig.Results[0].Body != `["payload","site"]` || !strings.Contains(ttext, "deploy-succeeded to deploy-succeeded:\nPOST /.netlify/functions/deploy-succeeded -> 200") {
		t.Errorf("trigger_event deploy-succeeded = %+v\n%s", trig, ttext)
	}
	s.call("trigger_event", map[string]any{"event": "identity-login", "function": "hello"}, &trig)
	if len(trig.Results) != 1 || trig.Results[0].Function != "hello" || trig.Results[0].Method != "POST" {
		t.Errorf("trigger_event to hello = %+v", trig)
	}
	s.call("invoke_function", map[string]any{"name": "broken"}, &inv)
	if inv.Status != 500 || inv.State != records.Failed || inv.Error == nil || inv.Error.Type != "BuildError" {
		t.Errorf("invoke broken = %+v", inv)
	}

	// invoke_function with wait on a failing background function: the
	// failure, every attempt, and the logs.
	text := s.call("invoke_function", map[string]any{"name": "fail-background", "body": `{"job":7}`, "wait": true, "wait_timeout": "1m"}, &inv)
	if inv.Status != 202 || !inv.Background || !inv.Finished || inv.State != records.Failed || len(inv.Attempts) != 3 ||
		inv.Error == nil || !strings.Contains(inv.Error.Message, "job exploded") ||
		!hasLog(inv.Logs, `starting job {"job":7}`) || !hasLog(inv.Logs, "about to fail") {
		t.Errorf("invoke fail-background with wait = %+v", inv)
	}
	if !strings.Contains(text, "failed after 3 attempt(s)") || !strings.Contains(text, "job exploded") || !strings.Contains(text, "about to fail") {
		t.Errorf("invoke fail-background's summary: %s", text)
	}
	failID := inv.InvocationID

	// Without wait it answers at once; wait_invocation follows it.
	s.call("invoke_function", map[string]any{"name": "fail-background"}, &inv)
	if inv.Status != 202 || !inv.Background || inv.InvocationID == "" {
		t.Errorf("invoke fail-background = %+v", inv)
	}
	var got invocationOut
	s.call("wait_invocation", map[string]any{"id": inv.InvocationID, "timeout": "1m"}, &got)
	if !got.Finished || got.Invocation.Status != records.Failed || len(got.Invocation.Attempts) != 3 || got.Invocation.Attempts[2].Error == nil {
		t.Errorf("wait_invocation = %+v", got.Invocation)
	}

	// list_invocations with filters.
	var list listInvocationsOut
	s.call("list_invocations", map[string]any{"function": "fail-background", "status": "failed"}, &list)
	if len(list.Invocations) != 2 || list.Invocations[1].ID != failID || list.Invocations[0].Attempts != 3 || !strings.Contains(list.Invocations[0].Error, "job exploded") {
		t.Errorf("list_invocations(fail-background, failed) = %+v", list.Invocations)
	}
	s.call("list_invocations", map[string]any{"limit": 2}, &list)
	if len(list.Invocations) != 2 {
		t.Errorf("list_invocations(limit 2) has %d", len(list.Invocations))
	}

	// get_invocation: the record with its request and logs.
	s.call("get_invocation", map[string]any{"id": helloID}, &got)
	if got.Invocation.ID != helloID || got.Invocation.Request.Method != "GET" || !got.Finished || len(got.Invocation.Logs) != 1 {
		t.Errorf("get_invocation = %+v", got.Invocation)
	}

	// replay_invocation with a new body.
	var rep replayOut
	s.call("replay_invocation", map[string]any{"id": helloID, "body": "again"}, &rep)
	// (A replay sends no Content-Type, so the v1 event carries the body in
	// base64.)
	if rep.ReplayOf != helloID || rep.ID == helloID || rep.Status != 200 || !strings.Contains(rep.Body, `"body":"YWdhaW4="`) || rep.State != records.Succeeded {
		t.Errorf("replay_invocation = %+v", rep)
	}
	s.call("replay_invocation", map[string]any{"id": failID, "wait": true}, &rep)
	if rep.Status != 202 || !rep.Finished || rep.State != records.Failed || !hasLog(rep.Logs, `starting job {"job":7}`) {
		t.Errorf("replay_invocation of a background run with wait = %+v", rep)
	}

	// cancel_invocation: a background run that prints for 2.5 s ends
	// cancelled at once, with no further attempts; a second cancel is an
	// argument error that says it has ended.
	s.call("invoke_function", map[string]any{"name": "loud-background"}, &inv)
	s.call("cancel_invocation", map[string]any{"id": inv.InvocationID}, &got)
	if !got.Finished || got.Invocation.Status != records.Cancelled || len(got.Invocation.Attempts) > 1 {
		t.Errorf("cancel_invocation = %+v", got.Invocation)
	}
	s.toolError("cancel_invocation", map[string]any{"id": inv.InvocationID}, "is cancelled")

	tailWhilePrinting(t, s, inv.InvocationID)

	// blobs_*: set, get, list, delete.
	var e struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
	}
	s.call("blobs_set", map[string]any{"store": "notes", "key": "a/b.txt", "value": "hi there", "metadata": map[string]any{"by": "agent"}}, &e)
	if e.Key != "a/b.txt" || e.Size != 8 {
		t.Errorf("blobs_set = %+v", e)
	}
	s.call("blobs_set", map[string]any{"store": "notes", "key": "bin", "value": "AAEC/w==", "base64": true}, nil)
	var bg blobsGetOut
	s.call("blobs_get", map[string]any{"store": "notes", "key": "a/b.txt"}, &bg)
	if bg.Value != "hi there" || bg.Encoding != "utf-8" || bg.Truncated || fmt.Sprint(bg.Metadata) != "map[by:agent]" {
		t.Errorf("blobs_get = %+v", bg)
	}
	s.call("blobs_get", map[string]any{"store": "notes", "key": "bin"}, &bg)
	if bg.Value != "AAEC/w==" || bg.Encoding != "base64" {
		t.Errorf("blobs_get of bytes = %+v", bg)
	}
	var bl blobsListOut
	s.call("blobs_list", nil, &bl)
	if len(bl.Stores) != 1 || bl.Stores[0].Name != "notes" {
		t.Errorf("blobs_list stores = %+v", bl)
	}
	s.call("blobs_list", map[string]any{"store": "notes", "prefix": "a/"}, &bl)
	if len(bl.Blobs) != 1 || bl.Blobs[0].Key != "a/b.txt" {
		t.Errorf("blobs_list keys = %+v", bl)
	}
	var del blobsDeleteOut
	s.call("blobs_delete", map[string]any{"store": "notes", "key": "a/b.txt"}, &del)
	if !del.Deleted {
		t.Errorf("blobs_delete = %+v", del)
	}
	s.call("blobs_delete", map[string]any{"store": "notes", "key": "a/b.txt"}, &del)
	if del.Deleted {
		t.Errorf("second blobs_delete = %+v", del)
	}
	s.toolError("blobs_get", map[string]any{"store": "notes", "key": "a/b.txt"}, `invalid argument key: no value for key "a/b.txt"`)
	if _, err := os.Stat(filepath.Join(dir, ".netlify", "blobs-serve", "entries", "unlinked", "site:notes", "bin")); err != nil {
		t.Errorf("the value is not in the site's blobs folder: %v", err)
	}

	// get_config: folders, env keys with sources, limits; never values.
	var cfg getConfigOut
	s.call("get_config", nil, &cfg)
	if cfg.FunctionsDir != filepath.Join(dir, "functions") || cfg.FunctionsDirSource != "[build] functions" || cfg.Limits.SyncTimeout != "1m0s" || cfg.Limits.LogRing != records.LogRingSize {
		t.Errorf("get_config = %+v", cfg.Config)
	}
	if !slices.Contains(cfg.Env, api.EnvVar{Key: "SECRET_TOKEN", Source: ".env"}) {
		t.Errorf("get_config env = %+v", cfg.Env)
	}

	// Resources: the entry file and the build output of each function.
	var uris []string
	for r, err := range s.cs.Resources(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, r.URI)
	}
	entry, output := fileURI(hello.Entry), fileURI(hello.Output)
	if !slices.Contains(uris, entry) || !slices.Contains(uris, output) || slices.Contains(uris, fileURI(byName["broken"].Output)+"x") {
		t.Errorf("resources %v lack %s or %s", uris, entry, output)
	}
	rr, err := s.cs.ReadResource(t.Context(), &sdk.ReadResourceParams{URI: entry})
	if err != nil || len(rr.Contents) != 1 || !strings.Contains(rr.Contents[0].Text, "hello called for") || rr.Contents[0].MIMEType != "text/javascript" {
		t.Errorf("read %s: %+v, %v", entry, rr, err)
	}
	if _, err := s.cs.ReadResource(t.Context(), &sdk.ReadResourceParams{URI: fileURI(filepath.Join(dir, ".env"))}); err == nil {
		t.Errorf("read the .env file as a resource: it is not one")
	}

	// Bad arguments through the real transport.
	s.toolError("invoke_function", map[string]any{"name": "helo"}, `did you mean "hello"?`)
	s.toolError("invoke_function", map[string]any{}, "name")
	s.toolError("wait_invocation", map[string]any{"id": "nope"}, "invalid argument id")

	// Nothing ever showed an environment value.
	if bytes.Contains(s.seen.Bytes(), []byte("supersecret")) {
		t.Errorf("a tool returned the value of SECRET_TOKEN")
	}
}

// tailWhilePrinting reads loud-background's 1,000 lines with three
// tail_logs calls, two while it prints, and checks none is missing or
// repeated. The run cancelled just before (cancelled) may have printed
// some lines before it was stopped: those are in the ring too, under its
// own id, and are the only other lines allowed.
func tailWhilePrinting(t *testing.T, s *session, cancelled string) {
	var inv invokeOut
	s.call("invoke_function", map[string]any{"name": "loud-background"}, &inv)
	id := inv.InvocationID
	waitLines := func(n int) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var got invocationOut
			s.call("get_invocation", map[string]any{"id": id}, &got)
			if len(got.Invocation.Logs) >= n || got.Finished {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("loud-background printed %d lines in 20s, want %d", len(got.Invocation.Logs), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var lines []string
	var cursor *int64
	for call, after := range []int{200, 600, -1} {
		if after > 0 {
			waitLines(after)
		} else {
			var got invocationOut
			s.call("wait_invocation", map[string]any{"id": id, "timeout": "30s"}, &got)
			if !got.Finished || got.Invocation.Status != records.Succeeded {
				t.Fatalf("loud-background ended %s", got.Invocation.Status)
			}
		}
		args := map[string]any{"function": "loud-background", "limit": 10000}
		if cursor != nil {
			args["cursor"] = *cursor
		}
		var tl tailOut
		s.call("tail_logs", args, &tl)
		if tl.Missed != 0 || tl.More {
			t.Fatalf("call %d: missed %d, more %v", call+1, tl.Missed, tl.More)
		}
		for _, l := range tl.Lines {
			if l.ID == cancelled {
				continue
			}
			if l.ID != id {
				t.Fatalf("call %d: a line of %s", call+1, l.ID)
			}
			lines = append(lines, l.Line)
		}
		next := tl.NextCursor
		cursor = &next
		if call < 2 && (len(lines) == 0 || len(lines) == 1000) {
			t.Logf("call %d saw %d lines: the function was not printing then (a slow machine?)", call+1, len(lines))
		}
	}
	if len(lines) != 1000 {
		t.Fatalf("three tail_logs calls returned %d lines, want 1000", len(lines))
	}
	for k, l := range lines {
		if l != "line "+strconv.Itoa(k) {
			t.Fatalf("line %d is %q", k, l)
		}
	}
}

// MCP over Streamable HTTP at /.bgfn/mcp on a running bgfn dev.
func TestHTTP(t *testing.T) {
	dir := copySite(t, "mcp")
	dev := startDev(t, dir, "--retry-scale", "0")
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), &sdk.StreamableClientTransport{Endpoint: dev.url + Path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, &session{t: t, cs: cs}, dir)

	// The endpoint refuses a Host that is not the loopback one it listens
	// on (DNS rebinding), as the rest of /.bgfn/ will (issue 17).
	_, err = sdk.NewClient(impl, nil).Connect(t.Context(), &sdk.StreamableClientTransport{
		Endpoint: dev.url + Path, HTTPClient: hostClient("evil.example:80"),
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("connect with Host evil.example: %v, want a 403", err)
	}

	// Ctrl-C with a session open: bgfn dev ends its streams and exits.
	start := time.Now()
	dev.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-dev.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("bgfn dev did not exit within 15s of SIGINT with an MCP session open")
	}
	if dev.err != nil {
		t.Errorf("bgfn dev exited with %v", dev.err)
	}
	t.Logf("bgfn dev stopped %s after SIGINT", time.Since(start).Round(time.Millisecond))
	cs.Close()
}

// bgfn mcp over stdio, running the functions in process: every tool, and
// no process left once stdin closes.
func TestStdio(t *testing.T) {
	dir := copySite(t, "mcp")
	stderr := new(bytes.Buffer)
	cmd := exec.Command(bgfnBin, "mcp", "--dir", dir, "--retry-scale", "0", "--no-watch")
	cmd.Stderr = stderr
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), &sdk.CommandTransport{Command: cmd, TerminateDuration: 30 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("bgfn mcp stderr:\n%s", stderr)
		}
	}()
	s := &session{t: t, cs: cs}
	exercise(t, s, dir)
	var fns listFunctionsOut
	s.call("list_functions", nil, &fns)
	if !strings.HasPrefix(fns.Server, "http://127.0.0.1:") {
		t.Errorf("server %q, want the in-process runtime on a loopback port", fns.Server)
	}
	if _, err := os.Stat(site.StatePath(dir)); err == nil {
		t.Errorf("the in-process runtime wrote %s: it is not a bgfn dev others should find", site.StatePath(dir))
	}

	procs := descendants(cmd.Process.Pid)
	var nodes int
	for _, p := range procs {
		if strings.Contains(p.cmdline, "node") {
			nodes++
		}
	}
	if nodes == 0 {
		t.Fatalf("no Node worker under bgfn mcp: %v", procs)
	}
	// Close stdin: bgfn mcp must exit by itself, well before the SDK's
	// SIGTERM at 30s, with code 0, and take every process with it.
	start := time.Now()
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("bgfn mcp took %s to exit after stdin closed", took)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("bgfn mcp exited with %v", cmd.ProcessState)
	}
	assertGone(t, procs)
}

// bgfn mcp uses the site's running bgfn dev when there is one.
func TestStdioUsesRunningDev(t *testing.T) {
	dir := copySite(t, "mcp")
	dev := startDev(t, dir)
	cmd := exec.Command(bgfnBin, "mcp", "--dir", dir)
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cs: cs}
	var fns listFunctionsOut
	s.call("list_functions", nil, &fns)
	if fns.Server != dev.url {
		t.Errorf("server %q, want the running bgfn dev at %s", fns.Server, dev.url)
	}
	var inv invokeOut
	s.call("invoke_function", map[string]any{"name": "hello"}, &inv)
	// The answer can reach the client before bgfn dev has printed the
	// function's line.
	if !dev.out.waitFor("hello called for world", 10*time.Second) {
		t.Errorf("the invocation did not run on bgfn dev:\n%s", dev.out)
	}
	if descendants(cmd.Process.Pid) != nil {
		t.Errorf("bgfn mcp started processes of its own: %v", descendants(cmd.Process.Pid))
	}
	cs.Close()
}

type proc struct {
	pid     int
	cmdline string
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []proc {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []proc
	var walk func(int)
	walk = func(pp int) {
		for c, p := range parent {
			if p == pp {
				cl, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c), "cmdline"))
				out = append(out, proc{pid: c, cmdline: string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '}))})
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// assertGone waits a little for each process and its process group to be
// gone.
func assertGone(t *testing.T, procs []proc) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range procs {
		for syscall.Kill(p.pid, 0) == nil || syscall.Kill(-p.pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Errorf("process %d (%s) outlived bgfn mcp", p.pid, p.cmdline)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// hostClient sends every request with that Host header.
func hostClient(host string) *http.Client {
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Host = host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// bgfn mcp's in-process runtime reloads a function whose file changes, as
// bgfn dev does.
func TestStdioReloads(t *testing.T) {
	dir := copySite(t, "mcp")
	cmd := exec.Command(bgfnBin, "mcp", "--dir", dir)
	cs, err := sdk.NewClient(impl, nil).Connect(t.Context(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	s := &session{t: t, cs: cs}
	var inv invokeOut
	s.call("invoke_function", map[string]any{"name": "route"}, &inv)
	if inv.Body != "routed /api/greet" {
		t.Fatalf("route answered %q", inv.Body)
	}
	src := "export default async () => new Response(\"edited\");\n\nexport const config = { path: \"/api/greet\" };\n"
	if err := os.WriteFile(filepath.Join(dir, "functions", "route.mjs"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for inv.Body != "edited" {
		if time.Now().After(deadline) {
			t.Fatalf("route still answers %q 20s after its file changed", inv.Body)
		}
		time.Sleep(50 * time.Millisecond)
		s.call("invoke_function", map[string]any{"name": "route"}, &inv)
	}
}
