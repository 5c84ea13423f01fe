package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Stream names where a log line came from.
type Stream int

// Streams.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// LogFunc receives each line an invocation prints, without the newline. The
// slice is only valid during the call.
type LogFunc func(s Stream, line []byte)

// Request is one invocation of a function.
type Request struct {
	// ID is the invocation id, unique per bgfn run.
	ID string
	// Event is the Netlify event, already encoded as JSON.
	Event json.RawMessage
	// ClientContext is the v1 context.clientContext as JSON, or nil.
	ClientContext json.RawMessage
	// Params are the route parameters for v2 handlers.
	Params map[string]string
	// Timeout bounds the invocation; the worker is killed when it passes.
	Timeout time.Duration
	// Background marks a background invocation.
	Background bool
	// Log receives the invocation's log lines. Nil drops them.
	Log LogFunc
	// Started, when set, is called with the worker's pid once the pool
	// has given the invocation a worker (the runs page shows it while the
	// invocation runs).
	Started func(pid int)
}

// Result is what a handler produced.
type Result struct {
	// Response is the value the handler returned as JSON (for v2 handlers,
	// the Response already mapped to statusCode/headers/body). It is nil
	// when Undefined is set.
	Response json.RawMessage
	// Undefined is set when a v1 handler returned undefined.
	Undefined bool
	// Error is set when the handler threw, rejected or called back with an
	// error.
	Error *FunctionError
	// Pid is the process that ran the invocation.
	Pid int

	// Stream is set when the function streams its body: Response then
	// holds only the head (statusCode and headers), and the body comes
	// from Stream as the function writes it.
	Stream *BodyStream

	// pending is closed when the worker is free again after the result
	// (v2 waitUntil work, a streamed body); nil when it was free at once.
	pending <-chan struct{}
	// after is what ended the work after the response, set before
	// pending is closed (see Wait).
	after error
	// deferred is set, before pending is closed, when waitUntil work
	// kept the invocation going after its response.
	deferred bool
}

// FunctionError is an error raised by the user's code, in the shape Lambda
// runtimes report it.
type FunctionError struct {
	Type    string   `json:"errorType"`
	Message string   `json:"errorMessage"`
	Stack   []string `json:"stack,omitempty"`
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// Trace is the error and its stack as Netlify prints it in a 500 body.
func (e *FunctionError) Trace() string {
	var b strings.Builder
	b.WriteString(e.Error())
	for _, l := range e.Stack {
		b.WriteString("\n ")
		b.WriteString(l)
	}
	return b.String()
}

// InitError is returned when a worker could not load the function: the
// module threw while it was imported, or exports no handler.
type InitError struct {
	Err *FunctionError
}

func (e *InitError) Error() string { return "load function: " + e.Err.Error() }

// DefaultInitTimeout is Lambda's limit on a function's init phase.
const DefaultInitTimeout = 10 * time.Second

// withInitTimeout bounds a start by its init limit (d, else the default);
// the context's cause tells the limit from a cancellation.
func withInitTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultInitTimeout
	}
	return context.WithTimeoutCause(ctx, d, &initTimeoutError{limit: d})
}

// initTimeoutError is the cause of a start's context when its init phase
// ran past the limit.
type initTimeoutError struct{ limit time.Duration }

func (e *initTimeoutError) Error() string { return "init timeout after " + e.limit.String() }

// startCancelled is the error of a start whose context ended: an InitError
// naming the function and why, when the init limit passed; the
// cancellation otherwise (the pool is closing).
func startCancelled(ctx context.Context, name, why string) error {
	var it *initTimeoutError
	if errors.As(context.Cause(ctx), &it) {
		return &InitError{Err: &FunctionError{
			Type:    "Runtime.InitTimeout",
			Message: fmt.Sprintf("worker for %q did not become ready within %s: %s; the worker was stopped (raise the limit with --init-timeout)", name, it.limit, why),
		}}
	}
	return fmt.Errorf("start worker for %s: %w", name, ctx.Err())
}

// ExitError is returned when a worker process ended during an invocation.
type ExitError struct {
	Exit string // "exited with code 1", "was killed by signal SIGKILL"
	Pid  int
}

func (e *ExitError) Error() string { return "worker " + e.Exit + " during invocation" }

// TimeoutError is returned when an invocation ran past its limit; the
// worker has been killed.
type TimeoutError struct {
	Limit time.Duration
	Pid   int // the worker that was killed
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("Task timed out after %.2f seconds", e.Limit.Seconds())
}

// AsFunctionError renders e as the error a Lambda runtime reports for it.
func (e *TimeoutError) AsFunctionError() *FunctionError {
	return &FunctionError{Type: "TimeoutError", Message: e.Error()}
}

// Worker runs invocations in one process, one at a time.
type Worker interface {
	// Invoke runs req and returns its result. An error means the worker
	// failed (it exited, timed out or could not be reached) and must not be
	// used again; a handler error is a Result with Error set.
	Invoke(ctx context.Context, req *Request) (*Result, error)
	// Stop asks the process to exit, waits up to the context's deadline,
	// then kills its process group. It returns when the process is gone.
	Stop(ctx context.Context) error
	// Pid is the worker's process id.
	Pid() int
	// Done is closed when the process has exited.
	Done() <-chan struct{}
}

// Starter starts workers for one build of one function.
type Starter interface {
	Start(ctx context.Context) (Worker, error)
}
