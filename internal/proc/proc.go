package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Exit describes how a process ended.
type Exit struct {
	Code   int    // exit code, or -1 when killed by a signal
	Signal string // signal name when killed by a signal
}

func (e Exit) String() string {
	if e.Signal != "" {
		return "was killed by signal " + e.Signal
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}

// ExitOf decodes the result of cmd.Wait into an Exit: "exited 1" and
// "killed by SIGKILL" are different stories for the user.
func ExitOf(state *os.ProcessState, waitErr error) Exit {
	if state == nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			state = ee.ProcessState
		}
	}
	if state == nil {
		return Exit{Code: -1}
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Exit{Code: -1, Signal: signalName(ws.Signal())}
	}
	return Exit{Code: state.ExitCode()}
}
