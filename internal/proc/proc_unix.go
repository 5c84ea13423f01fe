//go:build unix

package proc

import (
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Setup puts cmd in its own process group and bounds Wait by grace after
// the process exits. For a command made with exec.CommandContext it also
// makes cancelling the context send SIGTERM to the whole group (the bench
// runs bgfn that way); workers are stopped explicitly instead.
func Setup(cmd *exec.Cmd, grace time.Duration) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.WaitDelay = grace
	if cmd.Cancel == nil {
		// Not made with exec.CommandContext: nothing to cancel.
		return
	}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return Signal(cmd.Process.Pid, syscall.SIGTERM)
	}
}

// Signal sends sig to the process group led by pid.
func Signal(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return nil
	}
	err := syscall.Kill(-pid, sig)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

// Terminate asks the group led by pid to stop.
func Terminate(pid int) error { return Signal(pid, syscall.SIGTERM) }

// Kill kills the group led by pid at once.
func Kill(pid int) error { return Signal(pid, syscall.SIGKILL) }

// KillOne kills the single process pid, not its group.
func KillOne(pid int) error {
	if pid <= 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return err
	}
	return nil
}

// GroupAlive reports whether any process of the group led by pid is left.
func GroupAlive(pid int) bool {
	return pid > 0 && syscall.Kill(-pid, 0) == nil
}

func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}
