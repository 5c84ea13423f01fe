package journal

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// The zero tail (issue 19, target 4). An fsync that makes a file longer
// commits the inode and the filesystem's own journal, which other writers
// on the disk share: measured under load, 161 ms at p99, against 6.5 ms
// for an fdatasync that overwrites a region already written with zeros.
// So the journal file is written with zeros ahead of its last line, and a
// batch overwrites them: its fdatasync (datasync) then flushes data only.
//
// The file is: lines, then zeros up to alloc (its size). Readers stop at
// the first NUL after the last complete line (readEntries); a line cut by
// a crash is then a partial line followed by zeros, cut off as a torn
// last line always was. Close cuts the zeros off, so a stopped bgfn
// leaves only its lines.
//
// Who writes where: the committer writes batches at size, the extender
// goroutine writes zeros at alloc, and both write under fmu and move alloc
// past what they wrote. Zeros thus only ever go past every byte written,
// so they never land on a line; a batch longer than the tail simply writes
// past alloc (an append, as before). The extender runs when the committer
// sees the tail below half its length and writes it back to the full
// length, so the zeros are at most one tail long and extending (a slow
// commit of its own, as the file grows) happens once per half a tail of
// lines, not with every batch. The length starts at firstTail and doubles
// with each extension, up to Options.tail. Compaction gives the new file its tail
// before it replaces the journal, and bumps gen so an extension under way
// for the old file stops.

// DefaultTail is how many bytes of zeros the journal keeps written ahead
// of its last line, at most.
const DefaultTail = 8 << 20

// firstTail is the tail of a journal just opened: it doubles with each
// extension up to the full tail, so a bgfn that accepts little (most
// starts, every test) writes 1 MB of zeros, not 8.
const firstTail = 1 << 20

// zeroPiece is how many zeros are written at a time: fmu is held that
// long, so a batch never waits for a whole tail.
const zeroPiece = 256 << 10

// zeros is read only.
var zeros = make([]byte, zeroPiece)

// extendLoop extends the tail each time it is kicked, until extKick is
// closed by Close.
func (j *Journal) extendLoop() {
	defer close(j.extDone)
	for range j.extKick {
		j.extend()
		j.prepareNext()
	}
}

// kickExtend wakes the extender, unless it is already due to run.
func (j *Journal) kickExtend() {
	select {
	case j.extKick <- struct{}{}:
	default:
	}
}

// lowTail reports whether the zeros past the last line are under half the
// tail's length now. Called with fmu held.
func (j *Journal) lowTail() bool { return j.alloc-j.size < j.want/2 }

// extend writes zeros at the end of the file until it is a tail past the
// last line, each piece written back to disk before the next (writeBack),
// then makes them and the file's new size durable. It gives up on an error (the next
// batch kicks it again) and when compaction replaces the file.
func (j *Journal) extend() {
	j.fmu.Lock()
	if !j.lowTail() {
		j.fmu.Unlock()
		return
	}
	if j.extended {
		// Used since the last one: twice as long, up to the tail.
		j.want = min(j.tail, 2*j.want)
	}
	j.extended = true
	f, gen, target := j.f, j.gen, j.size+j.want
	j.fmu.Unlock()
	for {
		j.fmu.Lock()
		if j.gen != gen || j.alloc >= target {
			j.fmu.Unlock()
			break
		}
		off := j.alloc
		n, err := f.WriteAt(zeros[:min(zeroPiece, target-off)], off)
		j.alloc += int64(n)
		j.fmu.Unlock()
		if err != nil {
			return
		}
		writeBack(f, off, int64(n))
	}
	if datasync(f) == nil {
		j.fmu.Lock()
		j.extensions++
		j.fmu.Unlock()
	}
}

// writeZeros writes n zeros to w.
func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, zeroPiece)
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// zeroFrom reports whether f holds only zeros from off to its end (size).
func zeroFrom(f *os.File, off, size int64) (bool, error) {
	buf := make([]byte, zeroPiece)
	for off < size {
		n, err := f.ReadAt(buf[:min(zeroPiece, size-off)], off)
		if !bytes.Equal(buf[:n], zeros[:n]) {
			return false, nil
		}
		if err != nil && n == 0 {
			return false, fmt.Errorf("read journal: %w", err)
		}
		off += int64(n)
	}
	return true, nil
}

// trimTail cuts the zeros off at Close and makes that durable.
func (j *Journal) trimTail() error {
	j.fmu.Lock()
	defer j.fmu.Unlock()
	if j.alloc == j.size {
		return nil
	}
	if err := j.f.Truncate(j.size); err != nil {
		return fmt.Errorf("cut the zeros off journal %s: %w", j.path, err)
	}
	j.alloc = j.size
	return j.f.Sync()
}
