package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run instances as worker threads in a real Node host.

// hostEnv is one NodeHosts for a test, closed at the end with no process
// left behind.
func (e nodeEnv) hosts(t *testing.T) *NodeHosts {
	t.Helper()
	h := &NodeHosts{Node: e.node, Bootstrap: e.bootstrap, Dir: t.TempDir(), Spares: 1, Grace: time.Second}
	h.SetEnv([]string{"PATH=" + os.Getenv("PATH")})
	t.Cleanup(func() {
		pids := h.Pids()
		h.Close()
		for _, pid := range pids {
			waitGroupGone(t, pid)
		}
	})
	return h
}

// threadStarter writes src as a bundle and returns a starter of thread
// instances for it.
func (e nodeEnv) threadStarter(t *testing.T, h *NodeHosts, src string) *NodeStarter {
	t.Helper()
	s := e.starter(t, src)
	s.Config.Hosts = h
	return s
}

func startThread(t *testing.T, s Starter) Worker {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	w, err := s.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
	return w
}

func TestThreadInstances(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	s := env.threadStarter(t, h, `
import { threadId } from 'node:worker_threads'
let calls = 0
export const handler = async (event) => {
  calls++
  const q = event.queryStringParameters || {}
  console.log('log of', q.id)
  console.error('err of', q.id)
  if (q.ms) await new Promise((r) => setTimeout(r, Number(q.ms)))
  return { statusCode: 200, body: JSON.stringify({ calls, thread: threadId, pid: process.pid, name: process.env.AWS_LAMBDA_FUNCTION_NAME }) }
}`)
	s.Config.FuncEnv = map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "fn"}
	a, b := startThread(t, s), startThread(t, s)
	if a.Pid() != b.Pid() || a.Pid() != h.Pids()[0] {
		t.Errorf("instances in pids %d and %d, hosts %v: want one host", a.Pid(), b.Pid(), h.Pids())
	}

	type out struct {
		Calls, Thread, Pid int
		Name               string
	}
	invoke := func(w Worker, id string, ms int) (out, []logLine) {
		rec := &logRecorder{}
		res, err := w.Invoke(t.Context(), invokeReq(id, fmt.Sprintf(`{"queryStringParameters":{"id":%q,"ms":"%d"}}`, id, ms), 10*time.Second, rec.log))
		if err != nil || res.Error != nil {
			t.Fatalf("%s: %v %v", id, err, res)
		}
		var r struct{ Body string }
		json.Unmarshal(res.Response, &r)
		var o out
		if err := json.Unmarshal([]byte(r.Body), &o); err != nil {
			t.Fatalf("%s: body %s", id, res.Response)
		}
		return o, rec.get()
	}
	// Two at once: separate module state, each log line with its own
	// invocation.
	var wg sync.WaitGroup
	var oa, ob out
	var la, lb []logLine
	wg.Go(func() { oa, la = invoke(a, "a1", 200) })
	wg.Go(func() { ob, lb = invoke(b, "b1", 200) })
	wg.Wait()
	if oa.Calls != 1 || ob.Calls != 1 || oa.Thread == ob.Thread || oa.Name != "fn" {
		t.Errorf("concurrent instances: %+v and %+v, want 1 call each in two threads", oa, ob)
	}
	for id, lines := range map[string][]logLine{"a1": la, "b1": lb} {
		want := fmt.Sprint([]logLine{{Stdout, "log of " + id}, {Stderr, "err of " + id}})
		if got := fmt.Sprint(lines); got != want {
			t.Errorf("logs of %s = %s, want %s", id, got, want)
		}
	}
	// Warm: the same instance again keeps its state.
	if o, _ := invoke(a, "a2", 0); o.Calls != 2 || o.Thread != oa.Thread {
		t.Errorf("second call of a: %+v", o)
	}
}

func TestThreadInstanceFailures(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	s := env.threadStarter(t, h, `
export const handler = async (event) => {
  const q = event.queryStringParameters || {}
  if (q.spin) for (;;) {}
  if (q.exit) process.exit(3)
  if (q.throwLater) { setTimeout(() => { throw new RangeError('thrown outside the handler') }, 0); return new Promise(() => {}) }
  return { statusCode: 200, body: 'ok' }
}`)
	ok := func(w Worker) {
		t.Helper()
		res, err := w.Invoke(t.Context(), invokeReq("ok", `{"queryStringParameters":{}}`, 5*time.Second, nil))
		if err != nil || res.Error != nil {
			t.Fatalf("plain invocation: %v %+v", err, res)
		}
	}
	tests := []struct {
		name  string
		query string
		check func(err error) bool
		want  string
	}{
		{"an infinite loop times out and is stopped", `{"spin":"1"}`, func(err error) bool { var te *TimeoutError; return errors.As(err, &te) }, "TimeoutError"},
		{"process.exit ends only the instance", `{"exit":"1"}`, func(err error) bool {
			var ee *ExitError
			return errors.As(err, &ee) && strings.Contains(err.Error(), "exited with code 3")
		}, "exit 3"},
		{"an uncaught exception ends only the instance", `{"throwLater":"1"}`, func(err error) bool { var fe *FunctionError; return errors.As(err, &fe) && fe.Type == "RangeError" }, "RangeError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad, good := startThread(t, s), startThread(t, s)
			done := make(chan error, 1)
			go func() {
				_, err := bad.Invoke(t.Context(), invokeReq("bad", `{"queryStringParameters":`+tt.query+`}`, time.Second, nil))
				done <- err
			}()
			// The other instance of the same function serves meanwhile.
			ok(good)
			err := <-done
			if !tt.check(err) {
				t.Fatalf("failing invocation: %v (%T), want %s", err, err, tt.want)
			}
			select {
			case <-bad.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the failed instance is not gone")
			}
			ok(good)
		})
	}
}

func TestThreadInstanceInit(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	tests := []struct {
		name, src, wantType, wantMsg string
		timeout                      time.Duration
	}{
		{"throw at import", "throw new TypeError('no config')\nexport const handler = () => 1", "TypeError", "no config", 0},
		{"no handler", "export const x = 1", "Runtime.HandlerNotFound", "does not export a handler", 0},
		{"never finishes loading", "setInterval(() => {}, 1000); await new Promise(() => {})\nexport const handler = () => 1", "Runtime.InitTimeout", `worker for "fn" did not become ready within 500ms`, 500 * time.Millisecond},
		{"exit at import", "process.exit(4)", "Runtime.ExitError", "exited with code 4", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := env.threadStarter(t, h, tt.src)
			s.Config.InitTimeout = tt.timeout
			w, err := s.Start(t.Context())
			if err == nil {
				w.Stop(t.Context())
				t.Fatal("Start succeeded")
			}
			var ie *InitError
			if !errors.As(err, &ie) || ie.Err.Type != tt.wantType || !strings.Contains(ie.Err.Message, tt.wantMsg) {
				t.Fatalf("err = %v, want %s containing %q", err, tt.wantType, tt.wantMsg)
			}
		})
	}
	// The host lives on.
	s := env.threadStarter(t, h, "export const handler = async () => ({ statusCode: 200 })")
	startThread(t, s)
}

func TestThreadFallsBackToProcess(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	// What Node says of a native addon that is not context-aware, in a
	// worker thread.
	s := env.threadStarter(t, h, `
import { isMainThread } from 'node:worker_threads'
if (!isMainThread) throw new Error("Module did not self-register: '/x/build/Release/addon.node'.")
export const handler = async () => ({ statusCode: 200, body: String(process.pid) })`)
	var said []string
	s.Config.OnProcessFallback = func(reason string) { said = append(said, reason) }
	w := startThread(t, s)
	if w.Pid() == h.Pids()[0] {
		t.Fatal("the instance runs in the host")
	}
	if len(said) != 1 || !strings.Contains(said[0], "did not self-register") {
		t.Errorf("fallback said %q", said)
	}
	// Later starts go straight to a process, and say nothing again.
	w2 := startThread(t, s)
	if w2.Pid() == h.Pids()[0] || len(said) != 1 {
		t.Errorf("second start: pid %d, said %q", w2.Pid(), said)
	}
}

func TestHostDeathEndsItsInstances(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	s := env.threadStarter(t, h, "export const handler = () => new Promise(() => {})")
	w := startThread(t, s)
	done := make(chan error, 1)
	go func() {
		_, err := w.Invoke(t.Context(), invokeReq("x", `{}`, 10*time.Second, nil))
		done <- err
	}()
	pid := w.Pid()
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
	select {
	case err := <-done:
		var ee *ExitError
		if !errors.As(err, &ee) {
			t.Errorf("invocation in a dead host: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the invocation outlived its host")
	}
	// A new start gets a new host.
	w2 := startThread(t, s)
	if w2.Pid() == pid {
		t.Error("new instance in the dead host")
	}
}

// TestThreadLogsWithoutNewline: a last line without a newline belongs to
// the invocation that printed it.
func TestThreadLogsWithoutNewline(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	s := env.threadStarter(t, h, `export const handler = async () => { process.stdout.write('partial'); return { statusCode: 204 } }`)
	w := startThread(t, s)
	rec := &logRecorder{}
	if _, err := w.Invoke(t.Context(), invokeReq("p", `{}`, 5*time.Second, rec.log)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rec.get()); got != fmt.Sprint([]logLine{{Stdout, "partial"}}) {
		t.Errorf("logs = %s", got)
	}
}

// TestStopWhileLogging: an instance stopped in the middle of a write dies
// holding the lock on fd 4. The host frees it, ends the half-written line,
// and goes on: every stop ends its instance, and a new instance still
// answers. (The host's main thread used to wait for that lock itself to
// write one instance's exit, so the handler of the other's exit, which
// frees it, never ran, and the host hung.)
func TestStopWhileLogging(t *testing.T) {
	env := needNode(t)
	h := env.hosts(t)
	loud := env.threadStarter(t, h, `
export const handler = async () => {
  const line = 'x'.repeat(100000)
  for (;;) console.log(line)
}`)
	for round := range 6 {
		var ws []Worker
		for i := range 4 {
			w := startThread(t, loud)
			go w.Invoke(t.Context(), invokeReq(fmt.Sprint("loud", round, i), `{}`, time.Minute, func(Stream, []byte) {}))
			ws = append(ws, w)
		}
		// Let them write a while, then stop them all at once.
		time.Sleep(time.Duration(20+round*10) * time.Millisecond)
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				w.Stop(ctx)
			})
		}
		wg.Wait()
		for i, w := range ws {
			select {
			case <-w.Done():
			default:
				t.Fatalf("round %d: instance %d did not end when stopped", round, i)
			}
		}
	}
	quiet := env.threadStarter(t, h, `export const handler = async () => ({ statusCode: 200, body: 'ok' })`)
	w := startThread(t, quiet)
	res, err := w.Invoke(t.Context(), invokeReq("after", `{}`, 10*time.Second, nil))
	if err != nil || !strings.Contains(string(res.Response), `"body":"ok"`) {
		t.Fatalf("after the stops: %v %+v", err, res)
	}
}

// TestInitLimitStartsAtBoot: in a burst, a host boots a few threads at a
// time and queues the rest; the init limit is charged from each boot, not
// from the spawn, so a burst whose queue outlasts the limit still starts
// every instance whose own load fits in it.
func TestInitLimitStartsAtBoot(t *testing.T) {
	env := needNode(t)
	h := &NodeHosts{Node: env.node, Bootstrap: env.bootstrap, Dir: t.TempDir(), Grace: time.Second}
	// One boot at a time, no spares: the last spawn waits for all the
	// other loads, about twice the limit, while each load (a thread's
	// start-up and 150 ms of import) stays well within it even on a
	// loaded machine.
	h.SetEnv([]string{"PATH=" + os.Getenv("PATH"), "BGFN_PARALLEL_STARTS=1"})
	t.Cleanup(func() {
		pids := h.Pids()
		h.Close()
		for _, pid := range pids {
			waitGroupGone(t, pid)
		}
	})
	const load = 150 * time.Millisecond
	s := env.threadStarter(t, h, fmt.Sprintf("const end = Date.now() + %d; while (Date.now() < end) {}\nexport const handler = async () => ({ statusCode: 200 })", load.Milliseconds()))
	s.Config.InitTimeout = 2 * time.Second
	const n = 15
	errs := make(chan error, n)
	start := time.Now()
	for range n {
		go func() {
			w, err := s.Start(t.Context())
			if err == nil {
				t.Cleanup(func() { w.Stop(context.Background()) })
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Start: %v", err)
		}
	}
	if took := time.Since(start); took < s.Config.InitTimeout {
		t.Logf("the burst took %v, within one init limit: the queue did not outlast it, so this run proves little", took)
	}
}

// TestSpareWarmUp: a spare thread runs warm-up invocations before it is
// given a function (bootstrap.mjs, warmUp): v1 only at first, v1 and v2
// once the host has run a v2 function. Whether the function arrives
// before, during or after the warm-up, the instance is that spare (the
// warm-up did not kill it), nothing of the warm-up reaches bgfn or the
// log, and the function's invocations see only their own state. A spare
// idle long enough has also imported a module (Node's source-map code is
// loaded before the function's own import), and a spare made before the
// host ran a v2 function has run a v2 warm-up by the time the next one
// arrives (Node's fetch classes are loaded).
func TestSpareWarmUp(t *testing.T) {
	env := needNode(t)
	const src = `
import { threadId } from 'node:worker_threads'
const loaded = (m) => process.moduleLoadList.includes('NativeModule ' + m)
const atLoad = { context: globalThis.Netlify?.context ?? null, blobs: process.env.NETLIFY_BLOBS_CONTEXT ?? null, sourceMap: loaded('internal/source_map/source_map'), fetch: loaded('internal/deps/undici/undici'), idle: performance.now() - performance.nodeTiming.loopStart }
let calls = 0
export default async (req, context) => {
  calls++
  const body = await req.text()
  return Response.json({ calls, threadId, atLoad, id: context.requestId, method: req.method, body, cookie: context.cookies.get('a') ?? null })
}`
	for _, delay := range []time.Duration{0, 20 * time.Millisecond, 300 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			t.Setenv("BGFN_SPARE_WARM_MS", "0")
			var logMu sync.Mutex
			var hostLog []string
			h := env.hosts(t)
			h.Log = func(_ Stream, line []byte) {
				logMu.Lock()
				hostLog = append(hostLog, string(line))
				logMu.Unlock()
			}
			if err := h.Prestart(); err != nil {
				t.Fatal(err)
			}
			// Each instance takes the spare made after the one before; it
			// arrives at different points of that spare's start and
			// warm-up (deliberate offsets, not waits for a condition):
			// thread 1 gets no warm-up or a v1 one, thread 2 (made before
			// the v2 function loaded) a v1 one and then, told by the
			// host, a v2 one, thread 3
			// (made once a v2 function ran) a v1 and a v2 one.
			for spare := 1; spare <= 3; spare++ {
				if spare == 1 {
					time.Sleep(delay)
				} else {
					time.Sleep(500 * time.Millisecond)
				}
				w := startThread(t, env.threadStarter(t, h, src))
				for n, id := range []string{"r1", "r2"} {
					id = fmt.Sprintf("%s-%d", id, spare)
					// The second is a GET without a body, as the warm-up's
					// last v2 invocation is.
					method, event, body := "POST", `{"httpMethod":"POST","headers":{"cookie":"b=2"},"body":"hi `+id+`","rawUrl":"http://localhost/x"}`, "hi "+id
					if n == 1 {
						method, event, body = "GET", `{"httpMethod":"GET","headers":{"accept":"*/*"},"rawUrl":"http://localhost/x"}`, ""
					}
					res, err := w.Invoke(t.Context(), invokeReq(id, event, 10*time.Second, nil))
					if err != nil {
						t.Fatalf("invoke %s: %v", id, err)
					}
					var r struct {
						StatusCode int
						Body       string
					}
					json.Unmarshal(res.Response, &r)
					var got struct {
						Calls    int
						ThreadID int `json:"threadId"`
						AtLoad   map[string]any
						ID       string
						Method   string
						Body     string
						Cookie   any
					}
					if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
						t.Fatalf("%s: %s", id, res.Response)
					}
					if r.StatusCode != 200 || got.Calls != n+1 || got.ID != id || got.Method != method || got.Body != body || got.Cookie != nil {
						t.Errorf("%s answered %d %s", id, r.StatusCode, r.Body)
					}
					if got.AtLoad["context"] != nil || got.AtLoad["blobs"] != nil {
						t.Errorf("the module saw the warm-up's state at load: %v", got.AtLoad)
					}
					// A spare that had been up a while (idle: ms since its
					// event loop started, a little before it said it was
					// ready) has warmed up; on a loaded machine a thread's
					// start can take most of the wait.
					idle, _ := got.AtLoad["idle"].(float64)
					switch {
					case spare == 1 || n > 0:
					case idle < 250:
						t.Logf("thread %d was up only %.0f ms before its function came: its warm-up is not checked", spare, idle)
					case got.AtLoad["sourceMap"] != true:
						t.Errorf("thread %d had imported no module before its function: %v", spare, got.AtLoad)
					case got.AtLoad["fetch"] != true:
						t.Errorf("thread %d had not warmed up for v2 before its function, which the host's first function (v2) told it to: %v", spare, got.AtLoad)
					}
					if got.ThreadID != spare {
						t.Errorf("%s ran in thread %d, want the spare (thread %d): the warm-up ended it", id, got.ThreadID, spare)
					}
				}
			}
			logMu.Lock()
			defer logMu.Unlock()
			if len(hostLog) > 0 {
				t.Errorf("the host printed %q", hostLog)
			}
		})
	}
}
