//go:build unix

package blobs

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes the exclusive advisory lock on f, waiting for it. flock
// locks belong to the open file, so a process that dies (even by SIGKILL)
// releases them.
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// openValue opens a value for reading. A reader keeps the file it opened,
// whole, while writers rename new values over its name.
func openValue(path string) (*os.File, error) { return os.Open(path) }
