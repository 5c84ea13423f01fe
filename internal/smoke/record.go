package smoke

import (
	"slices"
	"time"
)

// Record is the part of an invocation record (GET
// /.bgfn/api/invocations/ID, the JSON of records.View) that cases check:
// the outcome, the attempts and the log lines.
type Record struct {
	ID          string    `json:"id"`
	Function    string    `json:"function"`
	Status      string    `json:"status"`
	DurationMs  float64   `json:"durationMs"`
	MaxAttempts int       `json:"maxAttempts"`
	Attempts    []Attempt `json:"attempts"`
	Logs        []LogLine `json:"logs"`
}

// Attempt is one run of a background invocation.
type Attempt struct {
	N      int            `json:"n"`
	Status string         `json:"status"`
	Error  *FunctionError `json:"error,omitempty"`
}

// FunctionError is the error an attempt ended with.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) String() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// LogLine is one line the function printed.
type LogLine struct {
	Attempt int    `json:"attempt"`
	Stream  string `json:"stream"`
	Line    string `json:"line"`
}

// Final reports whether the invocation has ended.
func (r *Record) Final() bool { return slices.Contains(finalStates, r.Status) }

// Duration is how long the invocation took on the server, retries
// included.
func (r *Record) Duration() time.Duration {
	return time.Duration(r.DurationMs * float64(time.Millisecond))
}

// lastError is the error of the last attempt, if it had one.
func (r *Record) lastError() *FunctionError {
	if n := len(r.Attempts); n > 0 {
		return r.Attempts[n-1].Error
	}
	return nil
}
