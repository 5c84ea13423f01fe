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
