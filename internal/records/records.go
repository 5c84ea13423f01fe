// Package records keeps a record of every invocation: its request, its
// attempts with their outcome, and its log lines. The newest records stay
// in memory for the /.bgfn/api endpoints; final records are appended to a
// JSON-lines journal so history survives a restart, and changes are
// published to subscribers (the Server-Sent Events stream). It also makes
// the invocation ids.
//
// A Record is the live object, changed through its methods; a View is the
// plain copy that the API encodes and clients decode. This package knows
// nothing of workers or HTTP: it must not import runtime or server.
package records

import (
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"
)

// Status is where an invocation stands.
type Status string

// Statuses. Succeeded, Failed, TimedOut, Interrupted and Cancelled are
// final. Interrupted means bgfn stopped the run (it was shutting down);
// Cancelled means someone asked it to (the runs page, bgfn cancel, the
// API), and the run is not retried.
const (
	Queued      Status = "queued"
	Running     Status = "running"
	Retrying    Status = "retrying"
	Succeeded   Status = "succeeded"
	Failed      Status = "failed"
	TimedOut    Status = "timed_out"
	Interrupted Status = "interrupted"
	Cancelled   Status = "cancelled"
)

// Statuses lists every status, in the order a run goes through them.
var Statuses = []Status{Queued, Running, Retrying, Succeeded, Failed, TimedOut, Interrupted, Cancelled}

// Final reports whether s is an end state.
func (s Status) Final() bool {
	switch s {
	case Succeeded, Failed, TimedOut, Interrupted, Cancelled:
		return true
	}
	return false
}

// Limits on what one record keeps, so memory stays bounded however much a
// function prints.
const (
	MaxLogLines   = 1000
	MaxLogLineLen = 4 << 10
	// MaxSyncBody is how much of a synchronous request body a record keeps.
	MaxSyncBody = 64 << 10
	// MaxResponseBody is how much of an answer's body a record keeps.
	MaxResponseBody = 64 << 10
)

// Request is what was asked of the function.
type Request struct {
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Query         string            `json:"query,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Body          string            `json:"body,omitempty"`
	BodyBase64    bool              `json:"bodyBase64,omitempty"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
}

// Response is what the function answered: for a synchronous invocation
// what the client got, for a background one what the handler returned
// (Netlify ignores it; the runs page shows it).
type Response struct {
	Status        int               `json:"status"`
	Headers       map[string]string `json:"headers,omitempty"`
	Body          string            `json:"body,omitempty"`
	BodyBase64    bool              `json:"bodyBase64,omitempty"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
	// BodySize is the whole body's length in bytes (for a streamed body,
	// how many bytes reached the client).
	BodySize int `json:"bodySize,omitempty"`
	// Streamed is set when the function streamed its body; the record
	// keeps no body then.
	Streamed bool `json:"streamed,omitempty"`
	// FirstByteMs is how long a streamed answer took to its first body
	// byte (its head when it sent none).
	FirstByteMs float64 `json:"firstByteMs,omitempty"`
}

// Error is what a failed attempt reports, in the shape Lambda runtimes
// report errors.
type Error struct {
	Type    string   `json:"errorType"`
	Message string   `json:"errorMessage"`
	Stack   []string `json:"stack,omitempty"`
}

func (e *Error) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// Attempt is one run of an invocation.
type Attempt struct {
	N          int        `json:"n"`
	Status     Status     `json:"status"`
	StartedAt  time.Time  `json:"startedAt"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
	DurationMs float64    `json:"durationMs,omitempty"`
	Pid        int        `json:"pid,omitempty"`
	Error      *Error     `json:"error,omitempty"`
}

// LogLine is one line the function printed.
type LogLine struct {
	Time    time.Time `json:"time"`
	Attempt int       `json:"attempt"`
	Stream  string    `json:"stream"`
	Line    string    `json:"line"`
}

// View is a record as the API shows it and clients read it: a plain value,
// a copy taken at one moment.
type View struct {
	ID          string     `json:"id"`
	Function    string     `json:"function"`
	Kind        string     `json:"kind"`
	Status      Status     `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	EndedAt     *time.Time `json:"endedAt,omitempty"`
	DurationMs  float64    `json:"durationMs,omitempty"`
	MaxAttempts int        `json:"maxAttempts"`
	Attempts    []Attempt  `json:"attempts"`
	NextRetryAt *time.Time `json:"nextRetryAt,omitempty"`
	// StatusCode is the HTTP status a synchronous invocation answered.
	StatusCode int `json:"statusCode,omitempty"`
	// ResponseMs and DeferredMs split a synchronous invocation that went
	// on after its answer (a streamed body, context.waitUntil work): how
	// long the answer took (to its last byte), and how much longer the
	// invocation ran.
	ResponseMs float64   `json:"responseMs,omitempty"`
	DeferredMs float64   `json:"deferredMs,omitempty"`
	Request    Request   `json:"request"`
	Response   *Response `json:"response,omitempty"`
	Logs       []LogLine `json:"logs"`
	LogsCut    int       `json:"logsDropped,omitempty"`
	ReplayOf   string    `json:"replayOf,omitempty"`
}

// Spec is what a new record is made from.
type Spec struct {
	ID          string
	Function    string
	Kind        string
	MaxAttempts int
	Request     Request
	// Body is the full request body, kept for retries and replays.
	Body []byte
	// ReplayOf names the invocation this one repeats.
	ReplayOf string
	// CreatedAt is when the invocation was accepted (zero: now); Attempts
	// are those it already had. Both are set for a run restored from the
	// background journal.
	CreatedAt time.Time
	Attempts  []Attempt
	// OnFinish, when set, is called once with the final status, whoever
	// finishes the record (the background journal records it).
	OnFinish func(s Status, at time.Time)
}

// Record is one invocation as it goes on. Its state changes only through
// its methods, under its lock; View gives a copy to show.
type Record struct {
	mu sync.Mutex
	v  View

	// Set at creation, never changed.
	id, function, kind string
	maxAttempts        int
	createdAt          time.Time
	body               []byte

	done     chan struct{}
	store    *Store
	onFinish func(Status, time.Time)
}

// ID is the invocation id.
func (r *Record) ID() string { return r.id }

// Function names the function invoked.
func (r *Record) Function() string { return r.function }

// Kind is the function's kind (sync, background, scheduled).
func (r *Record) Kind() string { return r.kind }

// MaxAttempts is how many attempts the invocation may have.
func (r *Record) MaxAttempts() int { return r.maxAttempts }

// CreatedAt is when the invocation was accepted.
func (r *Record) CreatedAt() time.Time { return r.createdAt }

// Body is the full request body (nil when the record was made without it).
func (r *Record) Body() []byte { return r.body }

// View returns a copy of the record that is safe to encode while the
// invocation goes on.
func (r *Record) View() *View {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.viewLocked()
}

func (r *Record) viewLocked() *View {
	c := r.v
	c.Attempts = append([]Attempt(nil), r.v.Attempts...)
	c.Logs = append([]LogLine(nil), r.v.Logs...)
	if c.Attempts == nil {
		c.Attempts = []Attempt{}
	}
	if c.Logs == nil {
		c.Logs = []LogLine{}
	}
	return &c
}

// Done is closed when the record reaches a final status.
func (r *Record) Done() <-chan struct{} { return r.done }

// Status returns the status now.
func (r *Record) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.v.Status
}

// AttemptCount returns how many attempts have started.
func (r *Record) AttemptCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.v.Attempts)
}

// Running records the worker process that runs the current attempt, as
// soon as it has one (a thread instance's is its Node host's).
func (r *Record) Running(pid int) {
	r.mu.Lock()
	if n := len(r.v.Attempts); n > 0 && r.v.Attempts[n-1].EndedAt == nil {
		r.v.Attempts[n-1].Pid = pid
	}
	r.mu.Unlock()
	r.store.changed(r)
}

// StartAttempt marks the record running with a new attempt and returns its
// number.
func (r *Record) StartAttempt() int {
	r.mu.Lock()
	now := time.Now()
	n := len(r.v.Attempts) + 1
	r.v.Attempts = append(r.v.Attempts, Attempt{N: n, Status: Running, StartedAt: now})
	r.v.Status = Running
	r.v.NextRetryAt = nil
	r.v.UpdatedAt = now
	r.mu.Unlock()
	r.store.changed(r)
	return n
}

// EndAttempt ends the current attempt with status s (Succeeded, Failed,
// TimedOut, Interrupted or Cancelled) and err. A pid of 0 keeps the one
// Running recorded.
func (r *Record) EndAttempt(s Status, pid int, err *Error) {
	r.mu.Lock()
	now := time.Now()
	if n := len(r.v.Attempts); n > 0 {
		a := &r.v.Attempts[n-1]
		a.Status = s
		a.EndedAt = &now
		a.DurationMs = ms(now.Sub(a.StartedAt))
		if pid != 0 {
			a.Pid = pid
		}
		a.Error = err
	}
	r.v.UpdatedAt = now
	r.mu.Unlock()
}

// Attempt returns a copy of attempt n (1-based).
func (r *Record) Attempt(n int) (Attempt, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n < 1 || n > len(r.v.Attempts) {
		return Attempt{}, false
	}
	return r.v.Attempts[n-1], true
}

// Retry marks the record waiting for its next attempt at t.
func (r *Record) Retry(t time.Time) {
	r.mu.Lock()
	r.v.Status = Retrying
	r.v.NextRetryAt = &t
	r.v.UpdatedAt = time.Now()
	r.mu.Unlock()
	r.store.changed(r)
}

// Finish gives the record its final status, journals it and wakes waiters.
// Later calls do nothing.
func (r *Record) Finish(s Status) {
	r.mu.Lock()
	if r.v.Status.Final() {
		r.mu.Unlock()
		return
	}
	now := time.Now()
	if n := len(r.v.Attempts); n > 0 && r.v.Attempts[n-1].EndedAt == nil {
		a := &r.v.Attempts[n-1]
		a.Status = s
		a.EndedAt = &now
		a.DurationMs = ms(now.Sub(a.StartedAt))
	}
	r.v.Status = s
	r.v.NextRetryAt = nil
	r.v.EndedAt = &now
	r.v.UpdatedAt = now
	r.v.DurationMs = ms(now.Sub(r.createdAt))
	r.mu.Unlock()
	close(r.done)
	r.store.finished(r)
	// After the history line: the background journal writes its final
	// line only once that is on disk (see Store.Sync).
	if r.onFinish != nil {
		r.onFinish(s, now)
	}
}

// SetResponse records what the function answered.
func (r *Record) SetResponse(resp *Response) {
	r.mu.Lock()
	r.v.Response = resp
	r.mu.Unlock()
}

// SetTiming records how long the answer took and how long the invocation
// went on after it (see View.ResponseMs).
func (r *Record) SetTiming(response, deferred time.Duration) {
	r.mu.Lock()
	r.v.ResponseMs, r.v.DeferredMs = ms(response), ms(deferred)
	r.mu.Unlock()
}

// SetStatusCode records the HTTP status of a synchronous invocation.
func (r *Record) SetStatusCode(code int) {
	r.mu.Lock()
	r.v.StatusCode = code
	r.mu.Unlock()
}

// Log adds a line the function printed during attempt n, on stderr when
// stderr is set.
func (r *Record) Log(attempt int, stderr bool, line []byte) {
	stream := "stdout"
	if stderr {
		stream = "stderr"
	}
	if len(line) > MaxLogLineLen {
		line = line[:MaxLogLineLen]
	}
	l := LogLine{Time: time.Now(), Attempt: attempt, Stream: stream, Line: string(line)}
	r.mu.Lock()
	if len(r.v.Logs) < MaxLogLines {
		r.v.Logs = append(r.v.Logs, l)
	} else {
		r.v.LogsCut++
	}
	r.mu.Unlock()
	r.store.logged(r, l)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Event is one change published to subscribers.
type Event struct {
	// Type is "record" (Record is set) or "log" (ID, Function and Log are set).
	Type     string          `json:"type"`
	Record   json.RawMessage `json:"record,omitempty"`
	ID       string          `json:"id,omitempty"`
	Function string          `json:"function,omitempty"`
	Log      *LogLine        `json:"log,omitempty"`
}

// DecodeBody returns the body req keeps, decoded from base64 when it was
// kept that way; nil when it has none.
func DecodeBody(req Request) ([]byte, error) {
	if req.Body == "" {
		return nil, nil
	}
	if req.BodyBase64 {
		return base64.StdEncoding.DecodeString(req.Body)
	}
	return []byte(req.Body), nil
}
