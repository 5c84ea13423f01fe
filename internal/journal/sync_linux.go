//go:build linux

package journal

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync makes what was written to f durable with fdatasync: over the
// pre-zeroed tail (tail.go) the file's size and blocks do not change, so
// no inode and no filesystem journal commit is waited for, only the data.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		for {
			err = unix.Fdatasync(int(fd))
			if err != unix.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// writeBack writes the n bytes at off of f to disk and waits for them,
// without their metadata: the extender's zeros then never wait as dirty
// pages for the committer's fdatasync to write them (it flushes the
// whole file).
func writeBack(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	})
}
