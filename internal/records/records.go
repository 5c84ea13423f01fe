// Package records keeps a record of every invocation: its request, its
// attempts with their outcome, and its log lines. The newest records stay
// in memory for the /.bgfn/api endpoints; every final record is appended to
// a JSON-lines journal so history survives a restart, and changes are
// published to subscribers (the Server-Sent Events stream).
package records

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// Status is where an invocation stands.
type Status string

// Statuses. Succeeded, Failed, TimedOut and Interrupted are final.
const (
	Queued      Status = "queued"
	Running     Status = "running"
	Retrying    Status = "retrying"
	Succeeded   Status = "succeeded"
	Failed      Status = "failed"
	TimedOut    Status = "timed_out"
	Interrupted Status = "interrupted"
)

// Final reports whether s is an end state.
func (s Status) Final() bool {
	switch s {
	case Succeeded, Failed, TimedOut, Interrupted:
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

// Attempt is one run of an invocation.
type Attempt struct {
	N          int                    `json:"n"`
	Status     Status                 `json:"status"`
	StartedAt  time.Time              `json:"startedAt"`
	EndedAt    *time.Time             `json:"endedAt,omitempty"`
	DurationMs float64                `json:"durationMs,omitempty"`
	Pid        int                    `json:"pid,omitempty"`
	Error      *runtime.FunctionError `json:"error,omitempty"`
}

// LogLine is one line the function printed.
type LogLine struct {
	Time    time.Time `json:"time"`
	Attempt int       `json:"attempt"`
	Stream  string    `json:"stream"`
	Line    string    `json:"line"`
}

// Record is one invocation.
type Record struct {
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
	StatusCode int       `json:"statusCode,omitempty"`
	Request    Request   `json:"request"`
	Logs       []LogLine `json:"logs"`
	LogsCut    int       `json:"logsDropped,omitempty"`
	ReplayOf   string    `json:"replayOf,omitempty"`
	// Body is the full request body for replays and retries; not shown.
	Body []byte `json:"-"`

	mu    sync.Mutex
	done  chan struct{}
	store *Store
}

// Snapshot returns a copy of the record that is safe to encode while the
// invocation goes on.
func (r *Record) Snapshot() *Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshotLocked()
}

func (r *Record) snapshotLocked() *Record {
	c := &Record{
		ID: r.ID, Function: r.Function, Kind: r.Kind, Status: r.Status,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, EndedAt: r.EndedAt, DurationMs: r.DurationMs,
		MaxAttempts: r.MaxAttempts, NextRetryAt: r.NextRetryAt, StatusCode: r.StatusCode,
		Request: r.Request, LogsCut: r.LogsCut, ReplayOf: r.ReplayOf,
	}
	c.Attempts = append([]Attempt(nil), r.Attempts...)
	c.Logs = append([]LogLine(nil), r.Logs...)
	if c.Attempts == nil {
		c.Attempts = []Attempt{}
	}
	if c.Logs == nil {
		c.Logs = []LogLine{}
	}
	return c
}

// Done is closed when the record reaches a final status.
func (r *Record) Done() <-chan struct{} { return r.done }

// CurrentStatus returns the status now.
func (r *Record) CurrentStatus() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Status
}

// AttemptCount returns how many attempts have started.
func (r *Record) AttemptCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.Attempts)
}

// StartAttempt marks the record running with a new attempt and returns its
// number.
func (r *Record) StartAttempt() int {
	r.mu.Lock()
	now := time.Now()
	n := len(r.Attempts) + 1
	r.Attempts = append(r.Attempts, Attempt{N: n, Status: Running, StartedAt: now})
	r.Status = Running
	r.NextRetryAt = nil
	r.UpdatedAt = now
	r.mu.Unlock()
	r.store.changed(r)
	return n
}

// EndAttempt ends the current attempt with status s (Succeeded, Failed or
// TimedOut) and err.
func (r *Record) EndAttempt(s Status, pid int, err *runtime.FunctionError) {
	r.mu.Lock()
	now := time.Now()
	if n := len(r.Attempts); n > 0 {
		a := &r.Attempts[n-1]
		a.Status = s
		a.EndedAt = &now
		a.DurationMs = ms(now.Sub(a.StartedAt))
		a.Pid = pid
		a.Error = err
	}
	r.UpdatedAt = now
	r.mu.Unlock()
}

// Retry marks the record waiting for its next attempt at t.
func (r *Record) Retry(t time.Time) {
	r.mu.Lock()
	r.Status = Retrying
	r.NextRetryAt = &t
	r.UpdatedAt = time.Now()
	r.mu.Unlock()
	r.store.changed(r)
}

// Finish gives the record its final status, journals it and wakes waiters.
// Later calls do nothing.
func (r *Record) Finish(s Status) {
	r.mu.Lock()
	if r.Status.Final() {
		r.mu.Unlock()
		return
	}
	now := time.Now()
	if n := len(r.Attempts); n > 0 && r.Attempts[n-1].EndedAt == nil {
		a := &r.Attempts[n-1]
		a.Status = s
		a.EndedAt = &now
		a.DurationMs = ms(now.Sub(a.StartedAt))
	}
	r.Status = s
	r.NextRetryAt = nil
	r.EndedAt = &now
	r.UpdatedAt = now
	r.DurationMs = ms(now.Sub(r.CreatedAt))
	r.mu.Unlock()
	close(r.done)
	r.store.finished(r)
}

// SetStatusCode records the HTTP status of a synchronous invocation.
func (r *Record) SetStatusCode(code int) {
	r.mu.Lock()
	r.StatusCode = code
	r.mu.Unlock()
}

// Log adds a line the function printed during attempt n.
func (r *Record) Log(attempt int, s runtime.Stream, line []byte) {
	stream := "stdout"
	if s == runtime.Stderr {
		stream = "stderr"
	}
	if len(line) > MaxLogLineLen {
		line = line[:MaxLogLineLen]
	}
	l := LogLine{Time: time.Now(), Attempt: attempt, Stream: stream, Line: string(line)}
	r.mu.Lock()
	if len(r.Logs) < MaxLogLines {
		r.Logs = append(r.Logs, l)
	} else {
		r.LogsCut++
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
