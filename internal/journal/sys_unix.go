//go:build unix

package journal

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes the exclusive advisory lock on f, or fails at once. flock
// locks belong to the open file, so a bgfn that dies (even by SIGKILL)
// releases its journal.
func tryLock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

// isLocked reports whether tryLock failed because another process holds
// the lock.
func isLocked(err error) bool { return err == unix.EWOULDBLOCK }

// syncDir makes a file created or renamed in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
