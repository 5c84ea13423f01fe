package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// DefaultMaxSize is the journal size past which it is compacted.
const DefaultMaxSize = 8 << 20

// Options configure a journal.
type Options struct {
	// MaxSize is the size past which the journal is compacted (default
	// DefaultMaxSize).
	MaxSize int64
	// BeforeFinal, when set, is called before a batch that ends runs is
	// written: it makes their records durable elsewhere first (the
	// invocation history, records.Store.Sync), since the journal forgets
	// them once the batch is on disk. It is an fsync of its own, so final
	// lines are held back and written together, at most every
	// finalEvery (see Journal.held).
	BeforeFinal func() error

	// tail is how many bytes of zeros are kept written past the last
	// line (default DefaultTail; tests make it small).
	tail int64
}

// Recovery is what Open found in the journal.
type Recovery struct {
	// Unfinished are the runs accepted and never ended: the bgfn that
	// wrote them stopped without recording them (killed, crashed, or the
	// machine went down). Oldest first.
	Unfinished []Run
	// Warnings are one line each: a torn last line, lines that are not
	// journal entries.
	Warnings []string
}

// LockedError is returned by Open when another bgfn owns the journal.
type LockedError struct {
	Path string
	// PID is the owner's process id, when it wrote one.
	PID int
}

func (e *LockedError) Error() string {
	owner := "another bgfn"
	if e.PID > 0 {
		owner += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return "journal " + e.Path + " is in use by " + owner
}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("journal closed")

// Journal is an open journal. Its methods are safe for concurrent use; a
// nil *Journal journals nothing and holds nothing.
type Journal struct {
	path        string
	maxSize     int64
	beforeFinal func() error
	lock        *os.File

	mu sync.Mutex
	st *state
	// cur is the batch filling up; the committer takes it.
	cur *batch
	// spare is a written batch's buffer, for the next one.
	spare []byte
	// held are final lines (other than interrupted) waiting to go out with
	// a batch at most every finalEvery, when BeforeFinal is set: a batch
	// of accepts then waits for one fsync, not two. Nothing waits for a
	// final line, and losing one to a kill only makes its run look
	// unfinished (run again, at-least-once), as before.
	held []byte
	// ready are held final lines BeforeFinal has run for (finals.go),
	// waiting to go out with the next batch.
	ready []byte
	// lastFinal is when BeforeFinal last ran.
	lastFinal time.Time
	closed    bool
	// limit is the size that triggers the next compaction.
	limit int64
	// rf reads the journal file (spilled events, Event); it is replaced,
	// under mu, only by the committer's compaction.
	rf *os.File
	// syncs counts the committer's fsyncs, for tests.
	syncs int
	// rewrites counts compactions, for tests.
	rewrites int

	// fmu guards the file between the committer and the extender
	// (tail.go). f and size change only in the committer, under fmu, so
	// the committer reads them without it.
	fmu sync.Mutex
	f   *os.File
	// size is the end of the last line: where the next batch goes.
	size int64
	// alloc is the end of what is written to f, lines or zeros: its size.
	alloc int64
	// gen counts the files f has been (compaction replaces it).
	gen int
	// tail is the most zeros kept past the last line, want how many
	// now; extended is set once the extender has run (tail.go).
	tail, want int64
	extended   bool
	// extensions counts the tails the extender made durable, for tests.
	extensions int
	// next is the next compaction's file, written with zeros ahead by
	// the extender once the journal is half way to its limit (next.go);
	// wantNext asks for it, nextSize is its length.
	next      *os.File
	nextSize  int64
	wantNext  bool
	nextFails int
	// nextUsed counts compactions into a prepared file, for tests.
	nextUsed int

	kick    chan struct{}
	done    chan struct{}
	finKick chan struct{}
	finStop chan struct{}
	finDone chan struct{}
	extKick chan struct{}
	extDone chan struct{}
}

// batch is lines written together, with one fsync.
type batch struct {
	buf []byte
	// accepts are the batch's accept lines, to learn their place in the
	// file once it is written.
	accepts []acceptLine
	// finals is set when the batch ends runs.
	finals bool
	done   chan struct{}
	err    error
}

// acceptLine is where in a batch the accept line of run is.
type acceptLine struct {
	run    *Run
	pos, n int
}

func newBatch(buf []byte) *batch { return &batch{buf: buf[:0], done: make(chan struct{})} }

// finalEvery is how often held final lines go out, so BeforeFinal's fsync
// is paid that often rather than with every batch.
const finalEvery = 100 * time.Millisecond

// Open reads the journal at path (creating it if needed), keeps what its
// lines add up to, and opens it for appending. A torn last line is cut off
// and reported in the Recovery's warnings; so are lines that are not
// journal entries. It fails with a *LockedError when another process
// holds the journal.
func Open(path string, opts Options) (*Journal, *Recovery, error) {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.tail <= 0 {
		opts.tail = DefaultTail
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	lock, err := takeLock(path + ".lock")
	if err != nil {
		return nil, nil, err
	}
	j := &Journal{path: path, maxSize: opts.MaxSize, beforeFinal: opts.BeforeFinal, lock: lock, st: newState(), tail: opts.tail, want: min(opts.tail, firstTail),
		kick: make(chan struct{}, 1), done: make(chan struct{}), extKick: make(chan struct{}, 1), extDone: make(chan struct{}),
		finKick: make(chan struct{}, 1), finStop: make(chan struct{}), finDone: make(chan struct{})}
	// A next compaction's file a killed bgfn left is only zeros.
	os.Remove(j.nextPath())
	rec, err := j.load()
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	j.cur = newBatch(nil)
	j.limit = max(j.maxSize, 2*j.size)
	if j.size > j.maxSize {
		// What ended before this start is dropped now, once.
		if err := j.rewrite(j.st.list(func(*Run) bool { return true })); err != nil {
			rec.Warnings = append(rec.Warnings, err.Error())
		} else {
			j.limit = max(j.maxSize, 2*j.size)
		}
	}
	go j.commitLoop()
	go j.extendLoop()
	go j.finalLoop()
	j.kickExtend()
	return j, rec, nil
}

// takeLock locks path exclusively and writes this process's id in it.
func takeLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal lock: %w", err)
	}
	if err := tryLock(f); err != nil {
		if !isLocked(err) {
			f.Close()
			return nil, fmt.Errorf("lock journal: %w", err)
		}
		b, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return nil, &LockedError{Path: strings.TrimSuffix(path, ".lock"), PID: pid}
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// load reads the journal into j.st, cuts a torn last line off and opens
// the file for writing after its last line: over the zeros that follow it
// when they are all that follows (tail.go), else after cutting off what
// does.
func (j *Journal) load() (*Recovery, error) {
	rec := &Recovery{}
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	good, end, warnings, err := readEntries(f, j.path, j.st)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read journal %s: %w", j.path, err)
	}
	rec.Warnings = warnings
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read journal: %w", err)
	}
	size := fi.Size()
	zeroRest, err := zeroFrom(f, end, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read journal %s: %w", j.path, err)
	}
	if !zeroRest {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("journal %s: ignored %d bytes from offset %d on, zeros followed by a write bgfn did not finish", j.path, size-end, end))
	}
	if size > good && (end > good || !zeroRest) {
		// Writing after a partial line would glue the next entry to it,
		// and what follows the zeros is not the journal's.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut the torn end of journal %s: %w", j.path, err)
		}
		size = good
	}
	j.f, j.size, j.alloc = f, good, size
	if j.rf, err = os.Open(j.path); err != nil {
		f.Close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if good == 0 {
		if err := j.writeSync(headerLine()); err != nil {
			f.Close()
			return nil, err
		}
		syncDir(filepath.Dir(j.path))
	}
	rec.Unfinished = j.st.list(func(r *Run) bool { return r.Status == "" })
	return rec, nil
}

func headerLine() []byte {
	b, _ := json.Marshal(entry{Op: opHeader, Version: Version})
	return append(b, '\n')
}

// readEntries applies every complete line of r to st, up to the end of
// the file or the first NUL byte (the zeros of the tail, tail.go). It
// returns the offset after the last complete line, where it stopped
// reading (after a partial last line, at the first NUL or at the end),
// and a warning for each kind of bad line: a torn last line, and lines
// that are not journal entries.
func readEntries(r io.Reader, path string, st *state) (good, end int64, warnings []string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	lineNo, bad, firstBad := 0, 0, ""
	for {
		line, nul, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return 0, 0, nil, rerr
		}
		if len(line) > 0 && (nul || line[len(line)-1] != '\n') {
			// A line cut by the end of the file or by the zeros after it:
			// bgfn was killed while writing it.
			warnings = append(warnings, fmt.Sprintf("journal %s: ignored a partial last line (%d bytes), written as bgfn stopped", path, len(line)))
			end = off + int64(len(line))
			break
		}
		if len(line) == 0 {
			end = off
			break
		}
		lineNo++
		off += int64(len(line))
		text := bytes.TrimSpace(line)
		if len(text) == 0 {
			continue
		}
		var e entry
		aerr := json.Unmarshal(text, &e)
		if aerr == nil {
			aerr = st.apply(&e)
		}
		if aerr != nil {
			bad++
			if firstBad == "" {
				firstBad = fmt.Sprintf("line %d: %v", lineNo, aerr)
			}
		}
	}
	if bad > 0 {
		warnings = append(warnings, fmt.Sprintf("journal %s: ignored %d line(s) that are not journal entries (first at %s)", path, bad, firstBad))
	}
	return off, end, warnings, nil
}

// readLine reads one line of any length, with its newline (none at EOF).
// At a NUL byte it stops and reports it: what it read before the NUL is
// then the line, never a whole one (tail.go).
func readLine(br *bufio.Reader) (line []byte, nul bool, err error) {
	frag, err := br.ReadSlice('\n')
	if i := bytes.IndexByte(frag, 0); i >= 0 {
		return frag[:i], true, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return frag, false, err
	}
	big := append([]byte(nil), frag...)
	for errors.Is(err, bufio.ErrBufferFull) {
		frag, err = br.ReadSlice('\n')
		if i := bytes.IndexByte(frag, 0); i >= 0 {
			return append(big, frag[:i]...), true, nil
		}
		big = append(big, frag...)
	}
	return big, false, err
}

// Path is the journal's file.
func (j *Journal) Path() string {
	if j == nil {
		return ""
	}
	return j.path
}

// Accept journals an accepted run and returns once it is on disk. The
// journal keeps r: the caller must not change it afterwards.
func (j *Journal) Accept(r *Run) error {
	if j == nil {
		return nil
	}
	return j.add(&entry{Op: opAccept, Run: r}, true)
}

// Start journals the start of attempt n and returns once it is on disk,
// so a run interrupted during the attempt is known to have started it.
func (j *Journal) Start(id string, n int, at time.Time) error {
	if j == nil {
		return nil
	}
	return j.add(&entry{Op: opStart, ID: id, N: n, At: &at}, true)
}

// End journals how an attempt ended, with the next batch.
func (j *Journal) End(id string, a records.Attempt) {
	if j == nil {
		return
	}
	j.add(&entry{Op: opEnd, ID: id, Attempt: &a}, false)
}

// Final journals a run's final status, with the next batch. An
// interrupted run stays resumable; any other status ends it.
func (j *Journal) Final(id string, s records.Status, at time.Time) {
	if j == nil {
		return
	}
	j.add(&entry{Op: opFinal, ID: id, Status: s, At: &at}, false)
}

// Interrupted lists the runs that can be resumed, oldest first.
func (j *Journal) Interrupted() []Run {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st.list(func(r *Run) bool { return r.Status == records.Interrupted })
}

// Resume reopens the resumable runs (all of them, or those of ids) and
// returns them once their resume lines are on disk. A run is reopened
// once: two callers never get the same run.
func (j *Journal) Resume(ids ...string) ([]Run, error) {
	if j == nil {
		return nil, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil, ErrClosed
	}
	runs := j.st.list(func(r *Run) bool {
		return r.Status == records.Interrupted && (len(ids) == 0 || want[r.ID])
	})
	if err := j.fillEvents(runs, false); err != nil {
		j.mu.Unlock()
		return nil, err
	}
	now := time.Now()
	for _, r := range runs {
		j.appendLocked(&entry{Op: opResume, ID: r.ID, At: &now})
	}
	b := j.cur
	j.mu.Unlock()
	if len(runs) == 0 {
		return nil, nil
	}
	<-b.done
	if b.err != nil {
		j.mu.Lock()
		for _, r := range runs {
			if cur, ok := j.st.runs[r.ID]; ok {
				cur.Status = records.Interrupted
			}
		}
		j.mu.Unlock()
		return nil, b.err
	}
	for i := range runs {
		runs[i].Status = ""
	}
	return runs, nil
}

// add appends e to the batch being filled and, with wait, returns once the
// batch is on disk.
func (j *Journal) add(e *entry, wait bool) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	if err := j.appendLocked(e); err != nil {
		j.mu.Unlock()
		return err
	}
	b := j.cur
	j.mu.Unlock()
	if !wait {
		return nil
	}
	<-b.done
	if b.err != nil && e.Op == opAccept {
		// Not accepted after all: nothing of it may come back.
		j.mu.Lock()
		if j.st.runs[e.Run.ID] == e.Run {
			delete(j.st.runs, e.Run.ID)
		}
		j.mu.Unlock()
	}
	return b.err
}

// appendLocked encodes e into the current batch, applies it to the state
// (which is thus always what the journal holds once the batch is written:
// compaction snapshots it) and wakes the committer.
func (j *Journal) appendLocked(e *entry) error {
	line, err := encodeEntry(e)
	if err != nil {
		return fmt.Errorf("encode journal entry: %w", err)
	}
	switch {
	case e.Op == opFinal && e.Status != records.Interrupted && j.beforeFinal != nil:
		// Nothing follows such a final for its run, so it may go out after
		// lines written later. An interrupted one can be followed by a
		// resume: it keeps its place.
		if len(j.held) == 0 {
			j.kickFinals()
		}
		j.held = append(append(j.held, line...), '\n')
	default:
		if e.Op == opAccept {
			j.cur.accepts = append(j.cur.accepts, acceptLine{run: e.Run, pos: len(j.cur.buf), n: len(line) + 1})
		}
		j.cur.buf = append(append(j.cur.buf, line...), '\n')
		if e.Op == opFinal {
			j.cur.finals = true
		}
	}
	j.st.apply(e)
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

// commitLoop writes batches until Close: each one with one write and one
// fsync, while the next one fills.
func (j *Journal) commitLoop() {
	defer close(j.done)
	for {
		_, ok := <-j.kick
		j.flush(!ok)
		if !ok {
			return
		}
	}
}

// flush writes batches until none is waiting, with the final lines that
// are ready (finals.go), and when closing the held ones too. A batch that
// would take the journal past its limit is written as a compaction
// instead.
func (j *Journal) flush(closing bool) {
	for {
		j.mu.Lock()
		b := j.cur
		due := len(j.held) > 0 && closing
		if len(b.buf) == 0 && !due && len(j.ready) == 0 {
			j.mu.Unlock()
			return
		}
		j.cur = newBatch(j.spare)
		j.spare = nil
		b.buf = append(b.buf, j.ready...)
		j.ready = j.ready[:0]
		if due {
			b.buf = append(b.buf, j.held...)
			j.held = j.held[:0]
			b.finals = true
		}
		var kept []Run
		compact := j.size+int64(len(b.buf)) > j.limit && j.worthCompacting(int64(len(b.buf)))
		if compact {
			// The state includes b and the held finals, and nothing after:
			// the runs those end are left out, so their records must be
			// durable first, as if the finals were written.
			kept = j.st.list(func(*Run) bool { return true })
			if len(j.held) > 0 {
				j.held = j.held[:0]
				b.finals = true
			}
		}
		j.mu.Unlock()
		var finalAt time.Time
		if b.finals && j.beforeFinal != nil {
			// A failure here is the history's: the runs still end.
			j.beforeFinal()
			finalAt = time.Now()
		}
		if compact {
			b.err = j.compact(b, kept)
		} else {
			b.err = j.writeBatch(b)
		}
		close(b.done)
		j.mu.Lock()
		j.spare = b.buf
		if !finalAt.IsZero() {
			j.lastFinal = finalAt
		}
		j.mu.Unlock()
	}
}

// writeBatch appends b and fsyncs, then notes where its accept lines are.
func (j *Journal) writeBatch(b *batch) error {
	base := j.size
	if err := j.writeSync(b.buf); err != nil {
		return err
	}
	j.mu.Lock()
	for _, a := range b.accepts {
		if j.st.runs[a.run.ID] == a.run {
			a.run.at = loc{base + int64(a.pos), int64(a.n)}
		}
	}
	j.mu.Unlock()
	return nil
}

// writeSync writes buf after the last line, over the zeros of the tail
// (past them when it is longer), and fdatasyncs. After a failure the file
// is cut back to where it was, so a partial batch is never followed by
// the next one. A tail under half its length wakes the extender.
func (j *Journal) writeSync(buf []byte) error {
	j.fmu.Lock()
	f := j.f
	_, err := f.WriteAt(buf, j.size)
	j.alloc = max(j.alloc, j.size+int64(len(buf)))
	j.fmu.Unlock()
	if err == nil {
		err = datasync(f)
		j.syncs++
	}
	j.fmu.Lock()
	if err != nil {
		f.Truncate(j.size)
		j.alloc = j.size
		j.fmu.Unlock()
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	j.size += int64(len(buf))
	low := j.lowTail()
	if j.next == nil && !j.wantNext && j.size > j.limit/2 {
		j.wantNext = true
		low = true
	}
	j.fmu.Unlock()
	if low {
		j.kickExtend()
	}
	return nil
}

// compact rewrites the journal as kept, the state once b is applied. When
// that fails, b goes to the old file, which is still whole, and the next
// try waits until the journal has grown as much again.
func (j *Journal) compact(b *batch, kept []Run) error {
	err := j.fillEvents(kept, true)
	if err == nil {
		err = j.rewrite(kept)
	}
	if err != nil {
		j.limit = 2 * max(j.limit, j.size)
		return j.writeBatch(b)
	}
	j.limit = max(j.maxSize, 2*j.size)
	return nil
}

// rewrite replaces the journal with a header and one accept line per run.
func (j *Journal) rewrite(runs []Run) error {
	tmp, f, zeroed, err := j.rewriteFile()
	if err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	j.fmu.Lock()
	want := j.want
	j.fmu.Unlock()
	bw := bufio.NewWriterSize(f, 256<<10)
	n, _ := bw.Write(headerLine())
	size := int64(n)
	at := make(map[string]loc, len(runs))
	var cp lineCopier
	for i := range runs {
		r := &runs[i]
		if r.exact && r.at.n > 0 && j.rf != nil {
			// Its accept line says it all: copied, not encoded again.
			if err := cp.add(j.rf, bw, r.at); err != nil {
				f.Close()
				os.Remove(tmp)
				return fmt.Errorf("compact journal: %w", err)
			}
			at[r.ID] = loc{size, r.at.n}
			size += r.at.n
			continue
		}
		line, err := encodeEntry(&entry{Op: opAccept, Run: r})
		if err == nil {
			err = cp.flush(j.rf, bw)
		}
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("compact journal: %w", err)
		}
		bw.Write(line)
		bw.WriteByte('\n')
		at[r.ID] = loc{size, int64(len(line) + 1)}
		size += int64(len(line) + 1)
	}
	err = cp.flush(j.rf, bw)
	if err == nil && zeroed == 0 {
		// The new file gets its tail before it is the journal.
		err = writeZeros(bw, want)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && zeroed > 0 {
		// Its zeros and its size are durable already (next.go).
		err = datasync(f)
	} else if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact journal: %w", err)
	}
	syncDir(filepath.Dir(j.path))
	rf, err := os.Open(j.path)
	if err != nil {
		// The new file is whole; only spilling stops until the next one.
		rf = nil
	}
	// The new file is the journal now, written after its last line; the
	// runs' lines are where it put them.
	j.fmu.Lock()
	j.f.Close()
	j.f, j.size, j.alloc = f, size, size+want
	if zeroed > 0 {
		j.alloc = max(size, zeroed)
		j.nextUsed++
	}
	j.gen++
	j.fmu.Unlock()
	j.mu.Lock()
	j.rewrites++
	old := j.rf
	j.rf = rf
	for id, l := range at {
		if r, ok := j.st.runs[id]; ok {
			r.at = l
		}
	}
	j.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Spill drops the event of the unfinished run id from memory, once its
// accept line is on disk: Event reads it back from there. It reports
// whether it did (a run not yet written, or not the journal's, keeps its
// event). The caller must drop its own reference for memory to be freed.
func (j *Journal) Spill(id string) bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.st.runs[id]
	if !ok || r.at.n == 0 || j.rf == nil {
		return false
	}
	r.Event = nil
	return true
}

// Event returns the event of the unfinished run id: from memory, or, for a
// spilled run, read back from its accept line.
func (j *Journal) Event(id string) (json.RawMessage, error) {
	if j == nil {
		return nil, fmt.Errorf("no journal")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.st.runs[id]
	if !ok {
		return nil, fmt.Errorf("journal %s holds no unfinished run %s", j.path, id)
	}
	if r.Event != nil {
		return r.Event, nil
	}
	return j.readEvent(r)
}

// fillEvents reads the events of spilled runs among runs back from the
// file; when compacting, not those of the runs that rewrite copies. It is called by the committer, which alone replaces the file, or
// under mu.
func (j *Journal) fillEvents(runs []Run, compacting bool) error {
	for i := range runs {
		if runs[i].Event != nil || compacting && runs[i].exact && runs[i].at.n > 0 {
			// An exact run's line is copied as it is (rewrite).
			continue
		}
		ev, err := j.readEvent(&runs[i])
		if err != nil {
			return err
		}
		runs[i].Event = ev
	}
	return nil
}

// readEvent reads r's event from its accept line in the file.
func (j *Journal) readEvent(r *Run) (json.RawMessage, error) {
	if r.at.n == 0 || j.rf == nil {
		return nil, fmt.Errorf("journal %s: run %s has no event in memory or on disk", j.path, r.ID)
	}
	buf := make([]byte, r.at.n)
	if _, err := j.rf.ReadAt(buf, r.at.off); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", j.path, err)
	}
	var e struct {
		Op  string `json:"op"`
		Run *struct {
			ID    string          `json:"id"`
			Event json.RawMessage `json:"event"`
		} `json:"run"`
	}
	if err := json.Unmarshal(buf, &e); err != nil || e.Op != opAccept || e.Run == nil || e.Run.ID != r.ID || e.Run.Event == nil {
		return nil, fmt.Errorf("journal %s: the line at offset %d is not the accept line of run %s", j.path, r.at.off, r.ID)
	}
	return e.Run.Event, nil
}

// Close writes what is pending and closes the journal.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	// The finalizer hands back what it holds; the committer then writes
	// it, and the held finals after one BeforeFinal of its own.
	close(j.finStop)
	<-j.finDone
	j.mu.Lock()
	// Under j.mu, so no writer wakes the committer after this.
	close(j.kick)
	j.mu.Unlock()
	<-j.done
	close(j.extKick)
	<-j.extDone
	j.dropNext()
	if j.rf != nil {
		j.rf.Close()
	}
	err := j.trimTail()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.lock.Close()
	return err
}
