//go:build unix

package runtime

import (
	"os"
	"sync"
	"syscall"

	"github.com/bgfn-dev/bgfn/internal/logs"
)

// pipeLog reads a worker's output pipe into lines. Reads happen under mu,
// both in the reader goroutine and in drain, so drain can take every byte
// already in the pipe and pass its lines on before it returns: the Runtime
// API answer travels over HTTP and the logs over a pipe, and the answer
// must not overtake the lines printed before it.
type pipeLog struct {
	f   *os.File
	mu  sync.Mutex
	lb  logs.LineBuffer
	buf []byte
	eof bool
}

func newPipeLog(f *os.File, fn func([]byte)) *pipeLog {
	return &pipeLog{f: f, lb: logs.LineBuffer{Fn: fn}, buf: make([]byte, 32<<10)}
}

// readLocked reads what the pipe holds without blocking; it reports false
// when the pipe is empty (or closed).
func (p *pipeLog) readLocked(fd uintptr) bool {
	n, err := syscall.Read(int(fd), p.buf)
	if n > 0 {
		p.lb.Write(p.buf[:n])
		return true
	}
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return false
	}
	p.eof = true
	return false
}

// run reads until EOF.
func (p *pipeLog) run() {
	defer p.f.Close()
	rc, err := p.f.SyscallConn()
	if err != nil {
		logs.SplitLines(p.f, p.lb.Fn)
		return
	}
	for {
		err := rc.Read(func(fd uintptr) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			for p.readLocked(fd) {
			}
			// false: wait until the pipe is readable again.
			return p.eof
		})
		if err != nil || p.eofNow() {
			p.mu.Lock()
			p.lb.Flush()
			p.mu.Unlock()
			return
		}
	}
}

func (p *pipeLog) eofNow() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eof
}

// drain passes on every line already in the pipe, and a partial last line.
func (p *pipeLog) drain() {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		for p.readLocked(fd) {
		}
		p.lb.Flush()
	})
}
