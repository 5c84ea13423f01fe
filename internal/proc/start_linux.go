//go:build linux

package proc

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// spawner is the one goroutine that starts workers on Linux. Linux sends a
// child its parent-death signal when the thread that forked it exits, not
// the process, and the Go runtime may retire threads; so every child is
// forked from one goroutine that holds its OS thread for bgfn's whole life.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd *exec.Cmd
	err chan error
}

// Start starts cmd (already Setup) so that the kernel kills it if bgfn
// dies without stopping it (SIGKILL, a crash): a worker that never reads
// its pipes, such as one stuck loading, must not outlive bgfn.
func Start(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go spawnLoop()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	req := spawnRequest{cmd: cmd, err: make(chan error, 1)}
	spawner.reqs <- req
	return <-req.err
}

func spawnLoop() {
	// Never unlocked: the thread must live as long as its children.
	runtime.LockOSThread()
	for req := range spawner.reqs {
		req.err <- req.cmd.Start()
	}
}
