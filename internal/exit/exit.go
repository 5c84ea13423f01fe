package exit

import "errors"

// Exit codes, documented in the README and each command's help.
const (
	OK = 0
	// Failed: the function (or what the command checked) failed.
	Failed = 1
	// Usage: bgfn was called wrongly, or the configuration is bad.
	Usage = 2
	// Unavailable: the runtime could not be reached or started.
	Unavailable = 3
	// Interrupted: stopped by Ctrl-C before it was done.
	Interrupted = 130
)

// Error is an error that calls for a particular exit code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// With wraps err with code.
func With(code int, err error) error { return &Error{Code: code, Err: err} }

// ErrReported is the error of a command that has printed its outcome
// already (a test report, say): cli exits with its code and prints nothing.
var ErrReported = errors.New("the command reported its outcome")

// Reported is an error for a command that has printed its outcome and
// needs only to exit with code.
func Reported(code int) error { return &Error{Code: code, Err: ErrReported} }

// Code is the exit code err calls for: its Error's code, else Failed.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}
