//go:build windows

package journal

import (
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes the exclusive lock on the first byte of f, or fails at
// once. Windows releases it when the process ends.
func tryLock(f *os.File) error {
	ol := new(windows.Overlapped)
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
}

// isLocked reports whether tryLock failed because another process holds
// the lock.
func isLocked(err error) bool { return err == windows.ERROR_LOCK_VIOLATION }

// syncDir does nothing: Windows cannot open a folder to flush it, and
// makes a rename durable with the file.
func syncDir(string) {}
