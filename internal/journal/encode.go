package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Issue 19: at c50, encoding accept lines and compacting a journal full
// of queued runs took most of bgfn's CPU per accept. The event is most of
// an accept line (about 1.7 of 2.4 KB) and encoding/json validates and
// compacts a RawMessage byte by byte; compaction decoded every spilled
// event and encoded every run again, though nearly all were still what
// their accept line said.

// eventNull is what json.Marshal writes for a run without its event.
var eventNull = []byte(`,"event":null`)

// encodeEntry encodes e as one journal line, without its newline. An
// accept line gets its event spliced in as it is: bgfn encoded it
// (server.encodeEvent, or this journal when it was read back), so it is
// valid JSON already. An event with a newline, which would cut the line,
// goes through encoding/json, which compacts it.
func encodeEntry(e *entry) ([]byte, error) {
	if e.Op != opAccept || e.Run == nil || len(e.Run.Event) == 0 || bytes.IndexByte(e.Run.Event, '\n') >= 0 {
		return json.Marshal(e)
	}
	c := *e.Run
	c.Event = nil
	meta, err := json.Marshal(&entry{Op: opAccept, Run: &c})
	if err != nil {
		return nil, err
	}
	// The first `,"event":null` is the run's: the fields before it (id,
	// fn, kind, max, at, req) hold no null, and a quote inside a string
	// is escaped.
	i := bytes.Index(meta, eventNull)
	if i < 0 {
		return json.Marshal(e)
	}
	ev := e.Run.Event
	out := make([]byte, 0, len(meta)+len(ev))
	out = append(out, meta[:i+len(eventNull)-len("null")]...)
	out = append(out, ev...)
	return append(out, meta[i+len(eventNull):]...), nil
}

// worthCompacting reports whether rewriting the journal would drop at
// least half of it. During a burst of accepts nearly every run is still
// queued: a rewrite would copy almost the whole file (and hold up every
// accept while it does), so the limit moves on instead, to when the
// file could be twice what it keeps, and the question comes back then.
// It is called under j.mu.
func (j *Journal) worthCompacting(pending int64) bool {
	var live int64
	for _, r := range j.st.runs {
		live += r.at.n
	}
	size := j.size + pending
	if live*2 <= size {
		return true
	}
	j.limit = max(2*live, size+j.maxSize/4)
	return false
}

// lineCopier copies lines of the old journal file into a rewrite,
// reading neighbouring lines with one read.
type lineCopier struct {
	off, n int64
	buf    []byte
}

// add copies the line at l, now or with the lines after it.
func (c *lineCopier) add(rf *os.File, w *bufio.Writer, l loc) error {
	if c.n > 0 && c.off+c.n == l.off && c.n < 1<<20 {
		c.n += l.n
		return nil
	}
	if err := c.flush(rf, w); err != nil {
		return err
	}
	c.off, c.n = l.off, l.n
	return nil
}

// flush writes the lines added so far.
func (c *lineCopier) flush(rf *os.File, w *bufio.Writer) error {
	if c.n == 0 {
		return nil
	}
	if int64(cap(c.buf)) < c.n {
		c.buf = make([]byte, c.n)
	}
	buf := c.buf[:c.n]
	c.n = 0
	if n, err := rf.ReadAt(buf, c.off); n < len(buf) {
		return fmt.Errorf("read journal: %w", err)
	}
	if buf[len(buf)-1] != '\n' {
		return fmt.Errorf("read journal: the line at offset %d does not end where it was written", c.off)
	}
	_, err := w.Write(buf)
	return err
}
