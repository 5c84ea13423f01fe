package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitGroupGone polls until no live process is left in the process group
// led by pid. Members that are zombies count as gone: in some containers
// PID 1 is slow to reap orphans.
func waitGroupGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(-pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		live := liveGroupMembers(pid)
		if len(live) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has live members %v (kill -0: %v)", pid, live, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveGroupMembers lists the non-zombie processes whose process group is
// pgid.
func liveGroupMembers(pgid int) []string {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var live []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) || f[0] == "Z" || f[0] == "X" {
			continue
		}
		live = append(live, strings.TrimSpace(s[:i+1]))
	}
	return live
}
