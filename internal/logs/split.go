package logs

import (
	"bufio"
	"errors"
	"io"
)

// MaxLine is the longest line passed on whole; longer lines are cut into
// pieces of this size, so a function that prints megabytes without a
// newline cannot make bgfn buffer all of it.
const MaxLine = 64 << 10

// SplitLines reads r until EOF or an error and calls fn with each line,
// without its line ending. A trailing partial line is flushed at EOF. The
// slice passed to fn is only valid during the call.
func SplitLines(r io.Reader, fn func(line []byte)) error {
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			fn(line)
		case errors.Is(err, bufio.ErrBufferFull):
			fn(line)
		default:
			if len(line) > 0 {
				fn(line)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
