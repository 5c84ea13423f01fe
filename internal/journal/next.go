package journal

import (
	"os"
)

// The next compaction's file (issue 19, target 4). A compaction writes
// the runs it keeps to a new file and renames it over the journal. With
// the zero tail, that file needs its zeros too (tail.go), and writing
// them and fsyncing a file that grew, in the committer, held up every
// accept of the meantime. So once the journal is half way to its limit,
// the extender writes the next file ahead: DefaultTail bytes of zeros,
// written back and fsynced, at journal.jsonl.next. The compaction then
// writes its lines over those zeros and only needs an fdatasync before
// the rename. When no such file is ready (the first compaction at Open,
// or the extender has not finished it), the compaction writes a new file
// with its zeros itself (the tail's length then, tail.go). Close deletes
// an unused one, so the zeros ahead are at most two tails while bgfn
// runs, and none after.

// nextPath is where the next compaction's file is prepared.
func (j *Journal) nextPath() string { return j.path + ".next" }

// maxNextFails is how many times the extender tries to prepare a next
// file before it stops trying: compactions then write their own.
const maxNextFails = 3

// prepareNext writes the next compaction's file, when the committer has
// asked for one.
func (j *Journal) prepareNext() {
	j.fmu.Lock()
	want := j.wantNext && j.next == nil && j.nextFails < maxNextFails
	size := j.tail
	j.fmu.Unlock()
	if !want {
		return
	}
	f, err := j.zeroFile(size)
	j.fmu.Lock()
	defer j.fmu.Unlock()
	j.wantNext = false
	if err != nil {
		j.nextFails++
		return
	}
	j.next, j.nextSize = f, size
}

// zeroFile creates the next compaction's file with size zeros, each piece
// written back before the next, and fsyncs it.
func (j *Journal) zeroFile(size int64) (*os.File, error) {
	f, err := os.OpenFile(j.nextPath(), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	for off := int64(0); off < size; {
		n, err := f.WriteAt(zeros[:min(zeroPiece, size-off)], off)
		if err != nil {
			f.Close()
			os.Remove(j.nextPath())
			return nil, err
		}
		writeBack(f, off, int64(n))
		off += int64(n)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(j.nextPath())
		return nil, err
	}
	return f, nil
}

// rewriteFile is the file a compaction writes, positioned at its start,
// and the length of the zeros it already holds: the prepared one when
// there is one (0 bytes of zeros otherwise, a new empty file). It is
// called by the committer.
func (j *Journal) rewriteFile() (path string, f *os.File, zeroed int64, err error) {
	j.fmu.Lock()
	f, zeroed = j.next, j.nextSize
	j.next, j.nextSize = nil, 0
	j.fmu.Unlock()
	if f != nil {
		return j.nextPath(), f, zeroed, nil
	}
	path = j.path + ".tmp"
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	return path, f, 0, err
}

// dropNext deletes an unused next file, at Close, once the extender has
// stopped.
func (j *Journal) dropNext() {
	j.fmu.Lock()
	defer j.fmu.Unlock()
	if j.next != nil {
		j.next.Close()
		j.next = nil
	}
	os.Remove(j.nextPath())
}
