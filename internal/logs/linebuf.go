package logs

import "bytes"

// LineBuffer assembles written bytes into lines and passes each whole line
// (without "\n" or "\r\n") to Fn. Lines longer than MaxLine are cut into
// pieces of MaxLine bytes. It is not safe for concurrent use.
type LineBuffer struct {
	Fn  func(line []byte)
	buf []byte
}

// Write adds p and passes on every line it completes.
func (b *LineBuffer) Write(p []byte) {
	b.buf = append(b.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(b.buf[start:], '\n')
		if i < 0 {
			break
		}
		line := b.buf[start : start+i]
		if k := len(line); k > 0 && line[k-1] == '\r' {
			line = line[:k-1]
		}
		for len(line) > MaxLine {
			b.Fn(line[:MaxLine])
			line = line[MaxLine:]
		}
		b.Fn(line)
		start += i + 1
	}
	// Cut a line only once it is longer than MaxLine, so a line of exactly
	// MaxLine bytes (plus its ending) stays whole.
	for len(b.buf)-start > MaxLine {
		b.Fn(b.buf[start : start+MaxLine])
		start += MaxLine
	}
	n := copy(b.buf, b.buf[start:])
	b.buf = b.buf[:n]
}

// Flush passes on a partial line, if any.
func (b *LineBuffer) Flush() {
	if len(b.buf) > 0 {
		b.Fn(b.buf)
		b.buf = b.buf[:0]
	}
}
