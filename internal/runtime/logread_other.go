//go:build !unix

package runtime

import (
	"os"
	"time"

	"github.com/bgfn-dev/bgfn/internal/logs"
)

// pipeLog reads a worker's output pipe into lines. Here drain cannot read
// the pipe itself, so it only gives the reader a moment.
type pipeLog struct {
	f  *os.File
	fn func([]byte)
}

func newPipeLog(f *os.File, fn func([]byte)) *pipeLog { return &pipeLog{f: f, fn: fn} }

func (p *pipeLog) run() {
	defer p.f.Close()
	logs.SplitLines(p.f, p.fn)
}

func (p *pipeLog) drain() { time.Sleep(time.Millisecond) }
