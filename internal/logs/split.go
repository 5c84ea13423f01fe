package logs

import (
	"bytes"
	"errors"
	"io"
)

// MaxLine is the longest line passed on whole; longer lines are cut into
// pieces of this size, so a function that prints megabytes without a
// newline cannot make bgfn buffer all of it.
const MaxLine = 64 << 10

// SplitLines reads r until EOF or an error and calls fn with each line,
// without its line ending ("\n" or "\r\n"). A trailing partial line is
// flushed at EOF. The slice passed to fn is only valid during the call.
func SplitLines(r io.Reader, fn func(line []byte)) error {
	buf := make([]byte, 0, MaxLine+32<<10)
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		start := 0
		for {
			i := bytes.IndexByte(buf[start:], '\n')
			if i < 0 {
				break
			}
			line := buf[start : start+i]
			if k := len(line); k > 0 && line[k-1] == '\r' {
				line = line[:k-1]
			}
			for len(line) > MaxLine {
				fn(line[:MaxLine])
				line = line[MaxLine:]
			}
			fn(line)
			start += i + 1
		}
		// Cut a line only once it is longer than MaxLine, so a line of
		// exactly MaxLine bytes (plus its ending) stays whole.
		for len(buf)-start > MaxLine {
			fn(buf[start : start+MaxLine])
			start += MaxLine
		}
		buf = append(buf[:0], buf[start:]...)
		if err != nil {
			if len(buf) > 0 {
				fn(buf)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
