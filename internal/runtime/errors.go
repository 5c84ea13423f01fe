package runtime

import (
	"errors"
	"strings"
)

// ErrorOf is the error a failed invocation reports to the client, the
// terminal and the record, in Lambda's shape: a handler's own error (with
// bgfn's and Node's internal frames dropped), a timeout, a start that
// failed, a worker that died, or anything else as a plain Error.
func ErrorOf(err error) *FunctionError {
	var fe *FunctionError
	var te *TimeoutError
	var ie *InitError
	switch {
	case errors.As(err, &fe):
		return userFrames(fe)
	case errors.As(err, &te):
		return te.AsFunctionError()
	case errors.As(err, &ie):
		return ie.Err
	}
	return &FunctionError{Type: "Error", Message: err.Error()}
}

// IsTimeout reports whether err is an invocation that ran past its limit.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// PidOf is the worker behind a worker failure, or 0.
func PidOf(err error) int {
	var te *TimeoutError
	var ee *ExitError
	switch {
	case errors.As(err, &te):
		return te.Pid
	case errors.As(err, &ee):
		return ee.Pid
	}
	return 0
}

// userFrames drops the stack frames of bgfn's bootstrap and of Node's
// internals, which say nothing about the user's code.
func userFrames(fe *FunctionError) *FunctionError {
	keep := fe.Stack[:0:0]
	for _, l := range fe.Stack {
		if strings.Contains(l, "/nodeboot/bootstrap") || strings.Contains(l, "(node:") || strings.HasPrefix(strings.TrimSpace(l), "at node:") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) == len(fe.Stack) {
		return fe
	}
	return &FunctionError{Type: fe.Type, Message: fe.Message, Stack: keep}
}
