package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/proc"
)

// NodeConfig describes how to start Node workers for one build of one
// function.
type NodeConfig struct {
	// Node is the node executable.
	Node string
	// Bootstrap is the path of the bootstrap module (nodeboot.Source
	// written to disk).
	Bootstrap string
	// Entry is the bundled function module.
	Entry string
	// Name is the Netlify function name.
	Name string
	// Dir is the working directory of the worker.
	Dir string
	// Env is the site-wide environment of the worker.
	Env []string
	// FuncEnv are the variables that belong to this function
	// (AWS_LAMBDA_FUNCTION_NAME, LAMBDA_TASK_ROOT, ...).
	FuncEnv map[string]string
	// Hosts, when set, runs the instances as worker threads in shared Node
	// hosts; without it (or with Process set) each is a Node process.
	Hosts *NodeHosts
	// Process runs each instance in a Node process of its own: for
	// functions that cannot run in a worker thread (a native addon that is
	// not context-aware).
	Process bool
	// OnProcessFallback is called once when a function that failed to
	// load in a worker thread with a native-addon error is moved to
	// processes.
	OnProcessFallback func(reason string)
	// IdleLog receives lines printed while no invocation runs (at import
	// time, or by timers that outlive an invocation). Nil drops them.
	IdleLog LogFunc
	// Grace is how long Stop waits after SIGTERM before SIGKILL.
	Grace time.Duration
	// InitTimeout bounds the start, Lambda's init phase (default 10 s): a
	// module still loading then is killed with its process group.
	InitTimeout time.Duration
}

// NodeStarter starts Node workers.
type NodeStarter struct {
	Config NodeConfig

	// process is set once the function was found to need processes.
	process atomic.Bool
}

var _ Starter = (*NodeStarter)(nil)

// endMarker is what the bootstrap writes to stdout and stderr after an
// invocation that printed something (see nodeboot/PROTOCOL.md).
var endMarker = []byte("\x00bgfn:end:")

type nodeMessage struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	API       string          `json:"api"`
	Response  json.RawMessage `json:"response"`
	Undefined bool            `json:"undefined"`
	Error     *FunctionError  `json:"error"`
	Logs      bool            `json:"logs"`
	Pending   bool            `json:"pending"`
	Code      int             `json:"code"`
	Aborted   bool            `json:"aborted"`

	// data is a chunk message's bytes.
	data []byte
}

type nodeWorker struct {
	cfg  *NodeConfig
	cmd  *exec.Cmd
	pid  int
	reqW *os.File
	buf  []byte

	resR    *os.File
	br      *bufio.Reader
	markers [2]chan string
	logs    *logTarget

	done     chan struct{}
	exitText string
	// exitCall is what the bootstrap said before process.exit ended it
	// (only the reader of fd 4 sets and reads it).
	exitCall *exitCall
	readers  sync.WaitGroup
	stopOnce sync.Once
}

// Start starts one instance and waits until it has loaded the function,
// at most cfg.InitTimeout: a worker thread in a host, or a process.
func (s *NodeStarter) Start(ctx context.Context) (Worker, error) {
	cfg := &s.Config
	if cfg.Hosts != nil && !cfg.Process && !s.process.Load() {
		// The thread applies the init limit itself, from when its host
		// begins booting it.
		t, err := s.startThread(ctx)
		if err == nil {
			return t, nil
		}
		var ie *InitError
		if !errors.As(err, &ie) || !needsProcess(ie.Err) {
			return nil, err
		}
		if s.process.CompareAndSwap(false, true) && cfg.OnProcessFallback != nil {
			cfg.OnProcessFallback(ie.Err.Message)
		}
	}
	ctx, cancel := withInitTimeout(ctx, cfg.InitTimeout)
	defer cancel()
	env := append(cfg.Env[:len(cfg.Env):len(cfg.Env)], "BGFN_ENTRY="+cfg.Entry, "BGFN_FUNCTION_NAME="+cfg.Name)
	for k, v := range cfg.FuncEnv {
		env = append(env, k+"="+v)
	}
	w, err := spawnNode(cfg.Node, cfg.Bootstrap, cfg.Dir, env, cfg.Grace, cfg.Name)
	if err != nil {
		return nil, err
	}
	w.cfg = cfg
	w.logs.setIdle(cfg.IdleLog)
	return w.awaitReady(ctx)
}

// hostStarts is how many hosts a thread start tries when each one ends
// before the instance is ready.
const hostStarts = 3

// startThread starts an instance in a host. When the host ends under it
// (killed, or brought down by another instance), it waits for that host
// to be gone and tries another: only a host that keeps ending fails the
// start.
func (s *NodeStarter) startThread(ctx context.Context) (Worker, error) {
	cfg := &s.Config
	for try := 1; ; try++ {
		x, err := cfg.Hosts.pick()
		if err != nil {
			return nil, err
		}
		t, err := x.spawn(ctx, cfg, cfg.Env)
		var hg *hostGoneError
		switch {
		case err == nil:
			return t, nil
		case !errors.As(err, &hg):
			return nil, err
		}
		if try == hostStarts {
			return nil, hg.initError()
		}
		select {
		case <-x.done:
		case <-ctx.Done():
			return nil, startCancelled(ctx, cfg.Name, "its node host ended while it loaded")
		}
	}
}

// needsProcess reports whether a load error means the function cannot run
// in a worker thread: Node loads a native addon that is not context-aware
// only in a main thread.
func needsProcess(fe *FunctionError) bool {
	m := fe.Message
	return strings.Contains(m, "Module did not self-register") || strings.Contains(m, "not context aware") ||
		strings.Contains(m, "context-aware") || strings.Contains(m, "ERR_DLOPEN_FAILED") && strings.Contains(m, "worker")
}

// spawnNode starts node with the bootstrap and the worker's pipes.
func spawnNode(node, bootstrap, dir string, env []string, grace time.Duration, name string) (*nodeWorker, error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return
	}
	reqR, reqW, err := pipe()
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	resR, resW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	outR, outW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start worker: %w", err)
	}

	args := []string{"--enable-source-maps"}
	// BGFN_NODE_FLAGS adds flags for profiling workers (--cpu-prof and the
	// like, which NODE_OPTIONS refuses); see bench/README.md.
	if extra := os.Getenv("BGFN_NODE_FLAGS"); extra != "" {
		args = append(args, strings.Fields(extra)...)
	}
	cmd := exec.Command(node, append(args, bootstrap)...)
	cmd.Dir = dir
	cmd.Env = append(env[:len(env):len(env)], "BGFN_PROTOCOL=1")
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.ExtraFiles = []*os.File{reqR, resW}
	proc.Setup(cmd, grace)
	if err := proc.Start(cmd); err != nil {
		closeAll()
		return nil, fmt.Errorf("start node for %s: %w", name, err)
	}
	// The child has its copies; ours would keep the pipes open forever.
	reqR.Close()
	resW.Close()
	outW.Close()
	errW.Close()

	w := &nodeWorker{
		cfg:  &NodeConfig{Grace: grace},
		cmd:  cmd,
		pid:  cmd.Process.Pid,
		reqW: reqW,
		resR: resR,
		logs: newLogTarget(nil),
		br:   bufio.NewReaderSize(resR, 64<<10),
		done: make(chan struct{}),
	}
	w.markers[0] = make(chan string, 8)
	w.markers[1] = make(chan string, 8)
	w.readers.Add(2)
	go w.readLogs(outR, Stdout, w.markers[0])
	go w.readLogs(errR, Stderr, w.markers[1])
	go w.wait()
	return w, nil
}

// awaitReady waits until the worker has loaded its function.
func (w *nodeWorker) awaitReady(ctx context.Context) (Worker, error) {
	// The caller is the only reader of fd 4 until this returns; a
	// cancelled ctx interrupts the read.
	stop := context.AfterFunc(ctx, func() { w.resR.SetReadDeadline(time.Now()) })
	m, err := w.readMessage(time.Time{})
	stop()
	if ctx.Err() != nil {
		w.kill()
		<-w.done
		return nil, startCancelled(ctx, w.cfg.Name, "its module is still loading (a top-level await that never settles, or slow code at import time)")
	}
	switch {
	case err == nil && m.Type == "ready":
		if m.Logs {
			// The lines printed while loading come before "ready"; the
			// timer only guards against a pipe that never delivers them.
			timer := time.NewTimer(10 * time.Second)
			err := w.awaitMarkers(ctx, timer, 10*time.Second, "ready")
			timer.Stop()
			if ctx.Err() != nil {
				return nil, startCancelled(ctx, w.cfg.Name, "its start-up output was not delivered")
			}
			if err != nil {
				return nil, &InitError{Err: &FunctionError{Type: "Runtime.ExitError", Message: "worker " + err.Error() + " while loading"}}
			}
		}
		return w, nil
	case err == nil && m.Type == "init_error" && m.Error != nil:
		w.kill()
		<-w.done
		return nil, &InitError{Err: m.Error}
	}
	w.kill()
	<-w.done
	return nil, &InitError{Err: &FunctionError{Type: "Runtime.ExitError", Message: "worker " + w.exitText + " before it was ready"}}
}

func (w *nodeWorker) Pid() int              { return w.pid }
func (w *nodeWorker) Done() <-chan struct{} { return w.done }

func (w *nodeWorker) wait() {
	err := w.cmd.Wait()
	exit := proc.ExitOf(w.cmd.ProcessState, err)
	w.exitText = exit.String()
	// Whatever the worker spawned goes with it.
	proc.Kill(w.pid)
	// Let the readers print what the process wrote last (a crash's stack),
	// but do not wait on a grandchild that still holds the pipes.
	readersDone := make(chan struct{})
	go func() { w.readers.Wait(); close(readersDone) }()
	select {
	case <-readersDone:
	case <-time.After(500 * time.Millisecond):
	}
	w.reqW.Close()
	close(w.done)
	// Interrupt a read of fd 4 that would otherwise wait for a grandchild
	// holding the pipe open, and let go of it: once done is closed nothing
	// more is read from it (readMessage), and every worker that ended
	// kept one open file until the garbage collector closed it (issue
	// 16's chaos test counts bgfn's files before and after).
	w.resR.SetReadDeadline(time.Now())
	w.resR.Close()
}

func (w *nodeWorker) readLogs(r *os.File, s Stream, markers chan string) {
	defer w.readers.Done()
	defer r.Close()
	logs.SplitLines(r, func(line []byte) {
		if i := bytes.Index(line, endMarker); i >= 0 {
			if i > 0 {
				w.logs.emit(s, line[:i])
			}
			markers <- string(line[i+len(endMarker):])
			return
		}
		w.logs.emit(s, line)
	})
}

// errTimeout is readMessage's deadline passing.
var errTimeout = errors.New("read deadline passed")

// readMessage reads the next message from fd 4. The caller is the only
// reader (one invocation at a time). A zero deadline waits until the
// process ends.
func (w *nodeWorker) readMessage(deadline time.Time) (*nodeMessage, error) {
	w.resR.SetReadDeadline(deadline)
	// wait() closes done and then interrupts the read, so a process that
	// ended while a grandchild holds fd 4 open does not hang us.
	select {
	case <-w.done:
		if w.br.Buffered() == 0 {
			return nil, io.EOF
		}
	default:
	}
	for {
		line, err := readLine(w.br)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				select {
				case <-w.done:
					return nil, io.EOF
				default:
				}
				return nil, errTimeout
			}
			return nil, err
		}
		if len(line) == 0 {
			continue
		}
		if id, data, ok := parseChunk(line[1:]); ok {
			return &nodeMessage{Type: "chunk", ID: id, data: data}, nil
		}
		if m, ok := parseResult(line); ok {
			return m, nil
		}
		m := new(nodeMessage)
		if json.Unmarshal(line, m) == nil {
			return m, nil
		}
	}
}

func (w *nodeWorker) kill() { proc.Kill(w.pid) }

func (w *nodeWorker) exitError() error {
	<-w.done
	if c := w.exitCall; c != nil && c.id == "" {
		// process.exit while no invocation ran: the one sent meanwhile
		// never started.
		return &NotDeliveredError{Exit: w.exitText}
	}
	return &ExitError{Exit: w.exitText, Pid: w.pid}
}

// Invoke implements Worker.
func (w *nodeWorker) Invoke(ctx context.Context, req *Request) (*Result, error) {
	select {
	case <-w.done:
		return nil, w.exitError()
	default:
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	w.logs.set(req)

	w.buf = encodeInvoke(append(w.buf[:0], `{"type":"invoke","id":`...), req, deadline)
	if _, err := w.reqW.Write(w.buf); err != nil {
		w.logs.set(nil)
		w.kill()
		return nil, w.exitError()
	}

	m, err := w.await(ctx, deadline, timeout)
	if err != nil {
		w.logs.set(nil)
		return nil, err
	}
	res := &Result{Pid: w.pid, Error: m.Error, Undefined: m.Undefined, Response: m.Response}
	if m.Type == "result" && !m.Undefined && len(m.Response) == 0 {
		res.Undefined = true
	}
	if m.Type == "head" {
		res.Error, res.Stream = nil, newStream(req.ID, "{", func(b []byte) error { _, err := w.reqW.Write(b); return err })
		pending := make(chan struct{})
		res.pending = pending
		go w.follow(ctx, req, res, deadline, timeout, pending)
		return res, nil
	}
	if m.Logs {
		timer := time.NewTimer(time.Until(deadline))
		err := w.awaitMarkers(ctx, timer, timeout, req.ID)
		timer.Stop()
		if err != nil {
			w.logs.set(nil)
			return nil, err
		}
	}
	if !m.Pending {
		w.logs.set(nil)
		return res, nil
	}
	// v2 waitUntil work keeps the worker busy after the response.
	pending := make(chan struct{})
	res.pending, res.deferred = pending, true
	go func() {
		defer close(pending)
		defer w.logs.set(nil)
		res.after = w.awaitEnd(ctx, deadline, timeout, req.ID)
	}()
	return res, nil
}

// follow reads the rest of a streamed invocation: its chunks into its
// Stream until the end message, then its waitUntil work (as Invoke does
// for a result). An exit with code 0 that the invocation made itself ends
// it normally.
func (w *nodeWorker) follow(ctx context.Context, req *Request, res *Result, deadline time.Time, limit time.Duration, pending chan struct{}) {
	defer close(pending)
	defer w.logs.set(nil)
	s := res.Stream
	fail := func(err error) {
		err = afterResponse(w.exitCall, req.ID, err)
		s.finish(err)
		res.after = err
	}
	var end *nodeMessage
	for end == nil {
		m, err := w.await(ctx, deadline, limit)
		if err != nil {
			fail(err)
			return
		}
		switch m.Type {
		case "chunk":
			if m.ID == req.ID {
				s.push(m.data)
			}
		case "end":
			end = m
		}
	}
	var err error
	if end.Error != nil {
		err = end.Error
	}
	if end.Logs {
		timer := time.NewTimer(time.Until(deadline))
		merr := w.awaitMarkers(ctx, timer, limit, req.ID)
		timer.Stop()
		if merr != nil {
			fail(merr)
			return
		}
	}
	s.end(err, end.Pending)
	if !end.Pending {
		return
	}
	res.deferred = true
	res.after = w.awaitEnd(ctx, deadline, limit, req.ID)
}

// awaitEnd waits for the end of an invocation whose answer has gone out
// (its idle message, then its log markers when it logged), and returns
// what happened after the answer, or nil.
func (w *nodeWorker) awaitEnd(ctx context.Context, deadline time.Time, limit time.Duration, id string) error {
	m, err := w.await(ctx, deadline, limit)
	if err != nil {
		return afterResponse(w.exitCall, id, err)
	}
	if m.Logs {
		timer := time.NewTimer(time.Until(deadline))
		w.awaitMarkers(ctx, timer, limit, id)
		timer.Stop()
	}
	return nil
}

// await waits for the next message of the running invocation until
// deadline; ctx ending kills the worker. What the bootstrap says before
// process.exit is kept for exitError.
func (w *nodeWorker) await(ctx context.Context, deadline time.Time, limit time.Duration) (*nodeMessage, error) {
	stop := context.AfterFunc(ctx, func() { w.resR.SetReadDeadline(time.Now()) })
	m, err := w.readMessage(deadline)
	for err == nil && m.Type == "exit_call" {
		w.exitCall = &exitCall{id: m.ID, code: m.Code}
		m, err = w.readMessage(deadline)
	}
	stop()
	switch {
	case err == nil:
		return m, nil
	case ctx.Err() != nil:
		w.kill()
		<-w.done
		return nil, ctx.Err()
	case errors.Is(err, errTimeout):
		w.kill()
		<-w.done
		return nil, &TimeoutError{Limit: limit, Pid: w.pid}
	}
	return nil, w.exitError()
}

// awaitMarkers waits until both log streams have delivered every line the
// invocation printed.
func (w *nodeWorker) awaitMarkers(ctx context.Context, timer *time.Timer, limit time.Duration, id string) error {
	for i := range w.markers {
	again:
		select {
		case got := <-w.markers[i]:
			if got != id {
				goto again
			}
		case <-timer.C:
			w.kill()
			<-w.done
			return &TimeoutError{Limit: limit, Pid: w.pid}
		case <-ctx.Done():
			w.kill()
			<-w.done
			return ctx.Err()
		case <-w.done:
			return w.exitError()
		}
	}
	return nil
}

// encodeInvoke appends the rest of an invoke message to b, which holds its
// start up to and including `"id":`: the id, the deadline, the event and
// the rest, and the newline.
func encodeInvoke(b []byte, req *Request, deadline time.Time) []byte {
	b = strconv.AppendQuote(b, req.ID)
	b = append(b, `,"deadlineMs":`...)
	b = strconv.AppendInt(b, deadline.UnixMilli(), 10)
	if req.Background {
		b = append(b, `,"background":true`...)
	}
	if len(req.ClientContext) > 0 {
		b = append(b, `,"clientContext":`...)
		b = append(b, req.ClientContext...)
	}
	if len(req.Params) > 0 {
		p, _ := json.Marshal(req.Params)
		b = append(b, `,"params":`...)
		b = append(b, p...)
	}
	b = append(b, `,"event":`...)
	b = append(b, req.Event...)
	b = append(b, "}\n"...)
	return b
}

// Stop implements Worker: EOF on the request pipe asks the bootstrap to
// exit; SIGTERM then SIGKILL to the group follow if it does not. A ctx
// that has already ended kills the group at once.
func (w *nodeWorker) Stop(ctx context.Context) error {
	w.stopOnce.Do(func() { w.reqW.Close() })
	if ctx.Err() != nil {
		w.kill()
		<-w.done
		return nil
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	proc.Terminate(w.pid)
	grace := w.cfg.Grace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	select {
	case <-w.done:
		return nil
	case <-time.After(grace):
	}
	w.kill()
	<-w.done
	return nil
}

// resultSuffixes are the endings the bootstrap writes after a result's
// response (see finish in bootstrap.mjs).
var resultSuffixes = [...]struct {
	text          string
	logs, pending bool
}{
	{`,"logs":false,"pending":false}`, false, false},
	{`,"logs":true,"pending":false}`, true, false},
	{`,"logs":false,"pending":true}`, false, true},
	{`,"logs":true,"pending":true}`, true, true},
}

// parseResult decodes the common message, a result, without reflection:
// {"type":"result","id":"ID","response":JSON,"logs":B,"pending":B}. The
// response was made by JSON.stringify, so it is taken as it is. Anything
// else is left to encoding/json.
func parseResult(line []byte) (*nodeMessage, bool) {
	const prefix = `{"type":"result","id":"`
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\n"), []byte(prefix))
	if !ok {
		return nil, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return nil, false
	}
	id := string(rest[:end])
	rest, ok = bytes.CutPrefix(rest[end+1:], []byte(`,"response":`))
	if !ok {
		return nil, false
	}
	for _, suf := range resultSuffixes {
		if resp, ok := bytes.CutSuffix(rest, []byte(suf.text)); ok && len(resp) > 0 {
			return &nodeMessage{
				Type:     "result",
				ID:       id,
				Response: append(json.RawMessage(nil), resp...),
				Logs:     suf.logs,
				Pending:  suf.pending,
			}, true
		}
	}
	return nil, false
}
