//go:build unix

package proc

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitOf(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   Exit
		text   string
	}{
		{"success", "exit 0", Exit{Code: 0}, "exited with code 0"},
		{"exit code", "exit 3", Exit{Code: 3}, "exited with code 3"},
		{"high exit code", "exit 255", Exit{Code: 255}, "exited with code 255"},
		{"SIGKILL", "kill -9 $$", Exit{Code: -1, Signal: "SIGKILL"}, "was killed by signal SIGKILL"},
		{"SIGTERM", "kill -TERM $$", Exit{Code: -1, Signal: "SIGTERM"}, "was killed by signal SIGTERM"},
		{"SIGSEGV", "kill -SEGV $$", Exit{Code: -1, Signal: "SIGSEGV"}, "was killed by signal SIGSEGV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), "sh", "-c", tt.script)
			err := cmd.Run()
			// Both ways callers have it: the ProcessState, or (on failure)
			// only the error from Wait.
			gots := []Exit{ExitOf(cmd.ProcessState, err)}
			if err != nil {
				gots = append(gots, ExitOf(nil, err))
			}
			for _, got := range gots {
				if got != tt.want {
					t.Errorf("ExitOf = %+v, want %+v", got, tt.want)
				}
				if got.String() != tt.text {
					t.Errorf("String() = %q, want %q", got.String(), tt.text)
				}
			}
		})
	}
}

func TestExitOfNoState(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"start failed", exec.ErrNotFound},
		{"wrapped", errors.New("wait: something")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitOf(nil, tt.err); got != (Exit{Code: -1}) {
				t.Errorf("ExitOf(nil, %v) = %+v, want code -1", tt.err, got)
			}
		})
	}
}

// groupMembers starts a shell in its own group that starts a `sleep 30`
// child and prints the child's pid.
func groupMembers(t *testing.T, cmd *exec.Cmd) (shell, child int) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read child pid: %v", err)
	}
	child, err = strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q: %v", line, err)
	}
	shell = cmd.Process.Pid
	if pgid, err := syscall.Getpgid(child); err != nil || pgid != shell {
		t.Fatalf("child %d is in group %d (%v), want the shell's %d", child, pgid, err, shell)
	}
	if !GroupAlive(shell) {
		t.Fatal("GroupAlive = false for a running group")
	}
	return shell, child
}

// The child prints its pid on stdout, which it then closes, so Wait does
// not wait for the sleep to let go of the pipe.
const groupScript = `sleep 30 >/dev/null & echo $!; exec >/dev/null; wait`

// waitGone polls until pid is gone or a zombie (in containers PID 1 may
// reap orphans late).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func TestKillGroup(t *testing.T) {
	tests := []struct {
		name     string
		stop     func(pid int) error
		wantExit Exit
	}{
		{"Kill", Kill, Exit{Code: -1, Signal: "SIGKILL"}},
		{"Terminate", Terminate, Exit{Code: -1, Signal: "SIGTERM"}},
		// Not SIGINT: sh makes background jobs ignore it.
		{"Signal SIGHUP", func(pid int) error { return Signal(pid, syscall.SIGHUP) }, Exit{Code: -1, Signal: "SIGHUP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", groupScript)
			Setup(cmd, time.Second)
			if !cmd.SysProcAttr.Setpgid {
				t.Fatal("Setup did not ask for a new process group")
			}
			shell, child := groupMembers(t, cmd)
			if err := tt.stop(shell); err != nil {
				t.Fatalf("stop: %v", err)
			}
			err := cmd.Wait()
			if got := ExitOf(cmd.ProcessState, err); got != tt.wantExit {
				t.Errorf("shell: %v, want %v", got, tt.wantExit)
			}
			waitGone(t, child)
			deadline := time.Now().Add(5 * time.Second)
			for GroupAlive(shell) && !isZombie(child) {
				if time.Now().After(deadline) {
					t.Fatal("GroupAlive still true after the group was killed")
				}
				time.Sleep(10 * time.Millisecond)
			}
			// Signalling a group that is gone is not an error.
			if err := tt.stop(shell); err != nil && !isZombie(child) {
				t.Errorf("second stop: %v, want nil", err)
			}
		})
	}
}

func TestSetupCancelTerminatesGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cmd := exec.CommandContext(ctx, "sh", "-c", groupScript)
	Setup(cmd, 2*time.Second)
	if cmd.WaitDelay != 2*time.Second {
		t.Errorf("WaitDelay = %v, want the grace period", cmd.WaitDelay)
	}
	_, child := groupMembers(t, cmd)
	cancel()
	err := cmd.Wait()
	if got := ExitOf(cmd.ProcessState, err); got.Signal != "SIGTERM" {
		t.Errorf("shell ended %v, want killed by SIGTERM sent to the group", got)
	}
	waitGone(t, child)
}

func TestSignalNoProcess(t *testing.T) {
	for _, pid := range []int{0, -1} {
		if err := Signal(pid, syscall.SIGKILL); err != nil {
			t.Errorf("Signal(%d) = %v, want nil (never signal every process)", pid, err)
		}
		if GroupAlive(pid) {
			t.Errorf("GroupAlive(%d) = true", pid)
		}
	}
}
