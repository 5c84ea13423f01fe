// Package logs prints what functions and bgfn itself have to say: one
// serialised sink that writes whole lines, with a stable coloured prefix per
// function, and a line splitter for worker output.
package logs

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

// Sink serialises lines from every worker and from bgfn onto one writer
// (stderr). Every write is a whole line, so output of concurrent functions
// never interleaves within a line.
//
// Lines are buffered and written by a flusher shortly after (at most
// flushDelay later), so a burst of lines costs one write instead of one
// per line; Flush writes what is buffered at once.
type Sink struct {
	mu      sync.Mutex
	w       *bufio.Writer
	st      *ui.Styles
	width   atomic.Int32 // read on every line, set on reload
	buf     []byte
	pending bool
	timer   *time.Timer
}

// flushDelay bounds how long a line waits in the buffer.
const flushDelay = 2 * time.Millisecond

// NewSink returns a sink writing to w with the given styles.
func NewSink(w io.Writer, st *ui.Styles) *Sink {
	s := &Sink{w: bufio.NewWriterSize(w, 64<<10), st: st}
	s.timer = time.AfterFunc(time.Hour, s.Flush)
	s.timer.Stop()
	return s
}

// Flush writes the buffered lines now.
func (s *Sink) Flush() {
	s.mu.Lock()
	s.pending = false
	s.w.Flush()
	s.mu.Unlock()
}

// scheduleLocked arranges for a flush soon after a write.
func (s *Sink) scheduleLocked() {
	if !s.pending {
		s.pending = true
		s.timer.Reset(flushDelay)
	}
}

// Styles returns the styles the sink renders with.
func (s *Sink) Styles() *ui.Styles { return s.st }

// SetWidth pads function prefixes to n characters (the longest name plus
// its short id), so columns line up as in goreman.
func (s *Sink) SetWidth(n int) { s.width.Store(int32(n)) }

// Prefix renders the prefix of a function's line: "name#id" in the
// function's colour, padded.
func (s *Sink) Prefix(name, id string) string {
	p := name
	if id != "" {
		p += "#" + id
	}
	if pad := int(s.width.Load()) - len(p); pad > 0 {
		p += strings.Repeat(" ", pad)
	}
	return s.st.Render(s.st.Function(name), p)
}

// FunctionLine prints one line a function wrote: "name#id | line".
func (s *Sink) FunctionLine(name, id string, line []byte) {
	prefix := s.Prefix(name, id)
	s.mu.Lock()
	s.buf = append(s.buf[:0], prefix...)
	s.buf = append(s.buf, " | "...)
	s.buf = append(s.buf, line...)
	s.buf = append(s.buf, '\n')
	s.w.Write(s.buf)
	s.scheduleLocked()
	s.mu.Unlock()
}

// Line prints one already formatted line (a newline is added).
func (s *Sink) Line(text string) {
	s.mu.Lock()
	s.w.WriteString(text)
	s.w.WriteByte('\n')
	s.scheduleLocked()
	s.mu.Unlock()
}

// Lines prints several lines at once, so no other line lands between them.
func (s *Sink) Lines(lines ...string) {
	s.mu.Lock()
	for _, l := range lines {
		s.w.WriteString(l)
		s.w.WriteByte('\n')
	}
	s.scheduleLocked()
	s.mu.Unlock()
}
