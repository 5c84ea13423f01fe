package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/proc"
)

// LambdaConfig describes how to start workers that speak the AWS Lambda
// Runtime API (2018-06-01), such as Go programs built on the unmodified
// github.com/aws/aws-lambda-go.
type LambdaConfig struct {
	// Binary is the program to run.
	Binary string
	// Name is the Netlify function name.
	Name string
	// Dir is the working directory.
	Dir string
	// Env is the worker's environment (without AWS_LAMBDA_RUNTIME_API,
	// which the worker gets from its own Runtime API server).
	Env []string
	// IdleLog receives lines printed while no invocation runs.
	IdleLog LogFunc
	// Grace is how long Stop waits after SIGTERM before SIGKILL.
	Grace time.Duration
	// Region goes into the invoked function ARN.
	Region string
	// InitTimeout bounds the start (default 10 s, Lambda's init limit): a
	// program that has not asked for an invocation by then is killed.
	InitTimeout time.Duration
	// MaxResponse bounds the response a program posts (default
	// DefaultMaxResponse, Lambda's limit; negative for none). A larger one
	// is refused with Lambda's 413 and fails the invocation.
	MaxResponse int64
}

// DefaultMaxResponse is Lambda's limit on an invocation's response payload:
// 6 MB, plus the 100 bytes the Runtime API allows for the framing
// (interop.MaxPayloadSize in aws-lambda-runtime-interface-emulator).
const DefaultMaxResponse = 6<<20 + 100

// maxErrorBody bounds what bgfn reads of an /error or /init/error body: the
// message and stack of an error, not a payload.
const maxErrorBody = 1 << 20

// LambdaStarter starts Runtime API workers.
type LambdaStarter struct {
	Config LambdaConfig
}

var _ Starter = (*LambdaStarter)(nil)

// lambdaInvocation is an invocation handed to the program through /next.
type lambdaInvocation struct {
	req      *Request
	deadline time.Time
	result   chan lambdaOutcome
}

type lambdaOutcome struct {
	response json.RawMessage
	err      *FunctionError
}

// lambdaWorker is one program behind its own Runtime API server: bgfn
// listens on 127.0.0.1 first, then starts the program with that address,
// so the program never races the server.
type lambdaWorker struct {
	cfg *LambdaConfig
	cmd *exec.Cmd
	pid int
	ln  net.Listener

	connMu sync.Mutex
	conns  map[net.Conn]struct{} // the Runtime API's open connections; nil once closed

	pollReady chan struct{} // cap 1: a /next joined polls
	polled    chan struct{} // closed at the program's first /next
	pollOnce  sync.Once
	initErr   chan *FunctionError

	mu    sync.Mutex
	cur   *lambdaInvocation
	polls []*rapiPoll // the program's /next requests waiting for an invocation, oldest first

	logs     *logTarget
	out      *pipeLog
	errs     *pipeLog
	readers  sync.WaitGroup
	done     chan struct{}
	exitText string
	shutdown chan struct{} // closes extension /event/next
	stopOnce sync.Once
}

// Start starts the program and waits for its first /next, at most
// cfg.InitTimeout.
func (s *LambdaStarter) Start(ctx context.Context) (Worker, error) {
	cfg := &s.Config
	ctx, cancel := withInitTimeout(ctx, cfg.InitTimeout)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start runtime API for %s: %w", cfg.Name, err)
	}
	w := &lambdaWorker{
		cfg:       cfg,
		ln:        ln,
		pollReady: make(chan struct{}, 1),
		polled:    make(chan struct{}),
		initErr:   make(chan *FunctionError, 1),
		done:      make(chan struct{}),
		shutdown:  make(chan struct{}),
		logs:      newLogTarget(cfg.IdleLog),
		conns:     map[net.Conn]struct{}{},
	}
	go w.serveAPI(ln)
	if err := w.spawn(); err != nil {
		ln.Close()
		return nil, err
	}
	return w.awaitFirstPoll(ctx)
}

// spawn starts the program with the worker's Runtime API address, its
// output on pipes that the log readers split into lines.
func (w *lambdaWorker) spawn() error {
	cfg := w.cfg
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	cmd := exec.Command(cfg.Binary)
	cmd.Dir = cfg.Dir
	cmd.Env = lambdaEnv(cfg.Env, w.ln.Addr().String())
	cmd.Stdout = outW
	cmd.Stderr = errW
	proc.Setup(cmd, cfg.Grace)
	err = proc.Start(cmd)
	// The child has its copies of the write ends.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	w.cmd, w.pid = cmd, cmd.Process.Pid
	w.out = newPipeLog(outR, func(line []byte) { w.logs.emit(Stdout, line) })
	w.errs = newPipeLog(errR, func(line []byte) { w.logs.emit(Stderr, line) })
	w.readers.Add(2)
	go func() { defer w.readers.Done(); w.out.run() }()
	go func() { defer w.readers.Done(); w.errs.run() }()
	go w.wait()
	return nil
}

// lambdaEnv is the environment of a Runtime API program: env without
// _LAMBDA_SERVER_PORT (aws-lambda-go prefers the retired RPC mode when it
// is set), with the Runtime API's address, and GOMAXPROCS=1 unless env
// sets GOMAXPROCS. An instance at the 1024 MB bgfn reports
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) gets about 0.6 of a vCPU on Lambda,
// and under 1769 MB never a whole one, so one P gives the program the
// CPU it would have there. It also keeps the Go scheduler of each of
// the many idle-and-woken instances from waking a second thread at every
// hand-off between its HTTP client's goroutines (issue 19).
func lambdaEnv(env []string, api string) []string {
	out := make([]string, 0, len(env)+5)
	maxprocs := false
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "_LAMBDA_SERVER_PORT="):
			continue
		case strings.HasPrefix(kv, "GOMAXPROCS="):
			maxprocs = true
		}
		out = append(out, kv)
	}
	if !maxprocs {
		out = append(out, "GOMAXPROCS=1")
	}
	return append(out, "AWS_LAMBDA_RUNTIME_API="+api, "_HANDLER=bootstrap", "AWS_EXECUTION_ENV=bgfn")
}

// awaitFirstPoll waits until the program asks for its first invocation,
// reports an init error, exits, or runs out of time.
func (w *lambdaWorker) awaitFirstPoll(ctx context.Context) (Worker, error) {
	select {
	case <-w.polled:
		// What the program printed while starting is not the first
		// invocation's.
		w.drainLogs()
		return w, nil
	case fe := <-w.initErr:
		w.kill()
		<-w.done
		return nil, &InitError{Err: fe}
	case <-w.done:
		select {
		case fe := <-w.initErr:
			return nil, &InitError{Err: fe}
		default:
		}
		return nil, &InitError{Err: &FunctionError{Type: "Runtime.ExitError", Message: "worker " + w.exitText + " before it asked for an invocation (does main call lambda.Start?)"}}
	case <-ctx.Done():
		w.kill()
		<-w.done
		return nil, startCancelled(ctx, w.cfg.Name, neverPolled)
	}
}

// neverPolled explains a program that started but never asked the Runtime
// API for an invocation. The usual cause is an aws-lambda-go from before
// v1.18 (2020): it serves only the retired go1.x RPC protocol.
const neverPolled = "it started but never asked the Lambda Runtime API for an invocation. " +
	"aws-lambda-go older than v1.18 speaks only the retired go1.x RPC protocol: upgrade it " +
	"(go get github.com/aws/aws-lambda-go@latest), and make sure main calls lambda.Start"

func (w *lambdaWorker) Pid() int              { return w.pid }
func (w *lambdaWorker) Done() <-chan struct{} { return w.done }
func (w *lambdaWorker) kill()                 { proc.Kill(w.pid) }

func (w *lambdaWorker) wait() {
	err := w.cmd.Wait()
	w.exitText = proc.ExitOf(w.cmd.ProcessState, err).String()
	proc.Kill(w.pid)
	readersDone := make(chan struct{})
	go func() { w.readers.Wait(); close(readersDone) }()
	select {
	case <-readersDone:
	case <-time.After(500 * time.Millisecond):
	}
	w.stopOnce.Do(func() { close(w.shutdown) })
	w.closeAPI()
	close(w.done)
}

// drainLogs passes on every line the program printed before it answered:
// the answer travels over HTTP and the logs over pipes, so the answer can
// arrive first.
func (w *lambdaWorker) drainLogs() {
	w.out.drain()
	w.errs.drain()
}

func (w *lambdaWorker) region() string {
	if w.cfg.Region != "" {
		return w.cfg.Region
	}
	return "us-east-1"
}

// current returns the invocation the program is working on, if id names it.
func (w *lambdaWorker) current(id string) *lambdaInvocation {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur != nil && w.cur.req.ID == id {
		inv := w.cur
		w.cur = nil
		return inv
	}
	return nil
}

// maxResponse is the limit on a response body, or -1 for none.
func (w *lambdaWorker) maxResponse() int64 {
	switch n := w.cfg.MaxResponse; {
	case n == 0:
		return DefaultMaxResponse
	case n < 0:
		return -1
	default:
		return n
	}
}

// lambdaError is the body of /error and /init/error.
type lambdaError struct {
	Message    string `json:"errorMessage"`
	Type       string `json:"errorType"`
	StackTrace []struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	} `json:"stackTrace"`
}

func (e *lambdaError) toFunctionError(typeHeader string) *FunctionError {
	fe := &FunctionError{Type: e.Type, Message: e.Message}
	if fe.Type == "" {
		fe.Type = typeHeader
	}
	if fe.Type == "" {
		fe.Type = "Error"
	}
	for _, f := range e.StackTrace {
		fe.Stack = append(fe.Stack, fmt.Sprintf("    at %s (%s:%d)", f.Label, f.Path, f.Line))
	}
	return fe
}

func decodeLambdaError(r *http.Request) *FunctionError {
	var le lambdaError
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	if json.Unmarshal(body, &le) != nil {
		le.Message = string(body)
	}
	return le.toFunctionError(r.Header.Get("Lambda-Runtime-Function-Error-Type"))
}

// Invoke implements Worker.
func (w *lambdaWorker) Invoke(ctx context.Context, req *Request) (*Result, error) {
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	inv := &lambdaInvocation{req: req, deadline: time.Now().Add(timeout), result: make(chan lambdaOutcome, 1)}
	w.logs.set(req)
	defer w.logs.set(nil)
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	switch err := w.handOver(ctx, inv, timer.C); {
	case errors.Is(err, errWorkerDone):
		return nil, &NotDeliveredError{Exit: w.exitText}
	case errors.Is(err, errTimedOut):
		w.kill()
		<-w.done
		return nil, &TimeoutError{Limit: timeout, Pid: w.pid}
	case err != nil:
		return nil, err
	}
	select {
	case out := <-inv.result:
		w.drainLogs()
		return &Result{Pid: w.pid, Response: out.response, Error: out.err}, nil
	case <-w.done:
		select {
		case out := <-inv.result:
			w.drainLogs()
			return &Result{Pid: w.pid, Response: out.response, Error: out.err}, nil
		default:
		}
		return nil, &ExitError{Exit: w.exitText, Pid: w.pid}
	case <-timer.C:
		w.kill()
		<-w.done
		return nil, &TimeoutError{Limit: timeout, Pid: w.pid}
	case <-ctx.Done():
		w.kill()
		<-w.done
		return nil, ctx.Err()
	}
}

// Stop implements Worker: SIGTERM (aws-lambda-go's WithEnableSIGTERM hears
// it through the extension API), then SIGKILL after the grace period. A
// ctx that has already ended kills the group at once.
func (w *lambdaWorker) Stop(ctx context.Context) error {
	w.stopOnce.Do(func() { close(w.shutdown) })
	if ctx.Err() != nil {
		w.kill()
		<-w.done
		return nil
	}
	proc.Terminate(w.pid)
	grace := w.cfg.Grace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	case <-time.After(grace):
	}
	w.kill()
	<-w.done
	return nil
}

// NotDeliveredError is returned when a worker ended before it took the
// invocation: the invocation never ran, so the pool runs it on another
// worker.
type NotDeliveredError struct {
	Exit string
}

func (e *NotDeliveredError) Error() string {
	return "worker " + e.Exit + " before it took the invocation"
}
