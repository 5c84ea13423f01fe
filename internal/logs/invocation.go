package logs

import (
	"fmt"
	"sync/atomic"
)

// Terminal limits on what one invocation prints. A function that prints
// 100 MB would otherwise hold the terminal (and, through the pipe's back
// pressure, itself) for as long as the terminal takes to scroll it; past
// either limit its lines are counted, not printed. The invocation's record
// keeps its own, smaller share (records.MaxLogLines).
const (
	MaxTerminalLines = 10_000
	MaxTerminalBytes = 2 << 20
)

// InvocationLog prints the lines of one invocation (one attempt of a
// background one) under its prefix, up to the terminal limits, and says
// how many it dropped. It is safe for concurrent use: a worker's stdout and
// stderr are read by two goroutines.
type InvocationLog struct {
	p        *Printer
	name, id string
	maxLines int64
	maxBytes int64

	lines, bytes, dropped atomic.Int64
}

// InvocationLog returns the log of one invocation of function name, whose
// lines are prefixed name#id.
func (p *Printer) InvocationLog(name, id string) *InvocationLog {
	return &InvocationLog{p: p, name: name, id: id, maxLines: MaxTerminalLines, maxBytes: MaxTerminalBytes}
}

// Line prints one line, or counts it once the limits are reached. The
// first line dropped says so at once, so that a long run does not look
// silent until its end.
func (l *InvocationLog) Line(line []byte) {
	n := l.lines.Add(1)
	b := l.bytes.Add(int64(len(line)) + 1)
	if n <= l.maxLines && b <= l.maxBytes {
		l.p.FunctionLine(l.name, l.id, line)
		return
	}
	if l.dropped.Add(1) == 1 {
		l.p.Dropped(l.name, l.id, fmt.Sprintf("… output over %s lines or %s: the rest of this invocation's lines are counted, not shown",
			thousands(l.maxLines), humanSize(l.maxBytes)))
	}
}

// Dropped returns how many lines were not printed.
func (l *InvocationLog) Dropped() int64 { return l.dropped.Load() }

// End prints how many lines were dropped, if any; call it once the
// invocation has ended.
func (l *InvocationLog) End() {
	if n := l.dropped.Load(); n > 0 {
		l.p.Dropped(l.name, l.id, "… "+thousands(n)+" lines dropped")
	}
}

// Dropped prints a note about a function's lines that were not shown:
// "name#id … text", in the warning colour.
func (p *Printer) Dropped(name, id, text string) {
	p.sink.Line(p.prefix(name, id) + " " + p.st.Render(p.st.Warning, text))
}

// thousands formats n with commas: 98,765.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// humanSize formats a power-of-two size: 2 MB, 64 KB, 100 bytes.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
