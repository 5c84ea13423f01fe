//go:build windows

package proc

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Setup makes context cancellation kill the process. Windows has no
// process groups in the POSIX sense; the worker is killed directly.
func Setup(cmd *exec.Cmd, grace time.Duration) {
	cmd.WaitDelay = grace
	if cmd.Cancel == nil {
		// Not made with exec.CommandContext: nothing to cancel.
		return
	}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return cmd.Process.Kill()
	}
}

// Terminate stops the process led by pid.
func Terminate(pid int) error { return Kill(pid) }

// Kill kills the process pid.
func Kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	return p.Kill()
}

// KillOne kills the process pid.
func KillOne(pid int) error { return Kill(pid) }

// GroupAlive reports whether the process pid still runs.
func GroupAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

func signalName(s syscall.Signal) string { return s.String() }
