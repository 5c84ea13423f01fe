package logs

import (
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
	lb := LineBuffer{Fn: fn}
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		lb.Write(chunk[:n])
		if err != nil {
			lb.Flush()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
