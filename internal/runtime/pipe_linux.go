//go:build linux

package runtime

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipePending returns how many bytes wait unread in the pipe.
func pipePending(f *os.File) int {
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ)
	if err != nil {
		return 0
	}
	return n
}
