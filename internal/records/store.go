package records

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store holds the newest records in memory and journals final ones.
type Store struct {
	max int

	mu sync.Mutex
	// live holds records that have not ended; ended holds the newest max
	// final ones, oldest first. A burst of queued invocations never pushes
	// out a record that is still going.
	live  map[string]*Record
	ended []*Record
	byID  map[string]*Record
	subs  map[chan Event]struct{}
	// ring keeps the newest log lines of every function for tails.
	ring *logRing

	jmu     sync.Mutex
	journal *os.File
	jpath   string
	jsize   int64
	jw      *bufio.Writer
	jtimer  *time.Timer
}

// NewStore returns a store keeping the last max records in memory and
// appending final records to journalPath ("" for none).
func NewStore(max int, journalPath string) (*Store, error) {
	if max < 1 {
		max = 1
	}
	s := &Store{max: max, live: make(map[string]*Record), byID: make(map[string]*Record), subs: make(map[chan Event]struct{}), ring: newLogRing(LogRingSize)}
	if journalPath != "" {
		if err := os.MkdirAll(filepath.Dir(journalPath), 0o755); err != nil {
			return nil, fmt.Errorf("open journal: %w", err)
		}
		f, err := os.OpenFile(journalPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open journal: %w", err)
		}
		s.journal = f
		s.jpath = journalPath
		if fi, err := f.Stat(); err == nil {
			s.jsize = fi.Size()
		}
		s.jw = bufio.NewWriterSize(f, 64<<10)
	}
	return s, nil
}

// New creates a queued record from sp and keeps it. A final record with
// the same id (an interrupted run that is resumed) is replaced.
func (s *Store) New(sp Spec) *Record {
	now := time.Now()
	created := sp.CreatedAt
	if created.IsZero() {
		created = now
	}
	r := &Record{
		id: sp.ID, function: sp.Function, kind: sp.Kind, maxAttempts: sp.MaxAttempts,
		createdAt: created, body: sp.Body, done: make(chan struct{}), store: s, onFinish: sp.OnFinish,
		v: View{
			ID: sp.ID, Function: sp.Function, Kind: sp.Kind, Status: Queued,
			CreatedAt: created, UpdatedAt: now, MaxAttempts: sp.MaxAttempts,
			Request: sp.Request, ReplayOf: sp.ReplayOf, Attempts: append([]Attempt(nil), sp.Attempts...),
		},
	}
	s.mu.Lock()
	if old, ok := s.byID[sp.ID]; ok {
		if i := slices.Index(s.ended, old); i >= 0 {
			s.ended = slices.Delete(s.ended, i, i+1)
		}
	}
	s.byID[sp.ID] = r
	s.live[sp.ID] = r
	hasSubs := len(s.subs) > 0
	s.mu.Unlock()
	if hasSubs {
		s.changed(r)
	}
	return r
}

// Get returns the record with id.
func (s *Store) Get(id string) (*Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	return r, ok
}

// Filter selects records in List and Page.
type Filter struct {
	Function string
	Status   Status
	// Kind keeps one kind (sync, background, scheduled); IDContains the
	// records whose id contains it.
	Kind       string
	IDContains string
	Limit      int
}

func (f Filter) match(r *Record) bool {
	return (f.Function == "" || r.function == f.Function) && (f.Kind == "" || r.kind == f.Kind) &&
		(f.IDContains == "" || strings.Contains(r.id, f.IDContains)) && (f.Status == "" || r.Status() == f.Status)
}

// List returns views of the records that match f, newest first.
func (s *Store) List(f Filter) []*View {
	out, _ := s.Page(f)
	return out
}

// Page returns views of the newest f.Limit records that match f (all of
// them without a limit), newest first, and how many match in all. Only
// the records returned are copied, so a page of a long history is cheap.
func (s *Store) Page(f Filter) ([]*View, int) {
	s.mu.Lock()
	rs := append([]*Record(nil), s.ended...)
	for _, r := range s.live {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].createdAt.Before(rs[j].createdAt) })
	out := []*View{}
	total := 0
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if !f.match(r) {
			continue
		}
		total++
		if f.Limit <= 0 || len(out) < f.Limit {
			out = append(out, r.View())
		}
	}
	return out, total
}

// Unfinished returns the records that have not reached a final status.
func (s *Store) Unfinished() []*Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Record, 0, len(s.live))
	for _, r := range s.live {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].createdAt.Before(out[j].createdAt) })
	return out
}

// Subscribe returns a channel of events and a function to stop. Events are
// dropped for a subscriber that does not keep up, never blocking functions.
func (s *Store) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
		s.mu.Unlock()
	}
}

func (s *Store) publish(ev func() Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) == 0 {
		return
	}
	e := ev()
	for ch := range s.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (s *Store) changed(r *Record) {
	s.publish(func() Event {
		b, _ := json.Marshal(r.View())
		return Event{Type: "record", Record: b}
	})
}

func (s *Store) logged(r *Record, l LogLine) {
	s.ring.add(r.id, r.function, l)
	s.publish(func() Event { return Event{Type: "log", ID: r.id, Function: r.function, Log: &l} })
}

// Tail returns the log lines after a cursor, from the ring of the newest
// LogRingSize lines (see Tail for what a poller that fell behind is told).
func (s *Store) Tail(q TailQuery) Tail { return s.ring.tail(q) }

// Journaled reports whether a final record goes to the journal: every
// background invocation, and synchronous ones that failed. Successful
// synchronous calls stay in memory only; journaling them would write a
// kilobyte per request (hundreds of megabytes under a load test).
func Journaled(v *View) bool {
	return v.Kind != "sync" && v.Kind != "scheduled" || v.Status != Succeeded
}

// maxJournal is the size at which the journal is rotated to
// invocations.jsonl.1 (one old file is kept).
const maxJournal = 64 << 20

func (s *Store) finished(r *Record) {
	s.mu.Lock()
	delete(s.live, r.id)
	s.ended = append(s.ended, r)
	if len(s.ended) > s.max {
		old := s.ended[0]
		s.ended[0] = nil
		s.ended = s.ended[1:]
		delete(s.byID, old.id)
	}
	s.mu.Unlock()
	s.changed(r)
	if s.jw == nil {
		return
	}
	v := r.View()
	if !Journaled(v) {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.jw == nil {
		return
	}
	s.jw.Write(b)
	s.jw.WriteByte('\n')
	s.jsize += int64(len(b) + 1)
	if s.jsize > maxJournal {
		s.rotateLocked()
	}
	// Flush soon but not per record: a burst of records costs one write.
	if s.jtimer == nil {
		s.jtimer = time.AfterFunc(100*time.Millisecond, s.flush)
	}
}

func (s *Store) flush() {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	s.jtimer = nil
	if s.jw != nil {
		s.jw.Flush()
	}
}

// rotateLocked moves the journal to PATH.1 and starts a new one.
func (s *Store) rotateLocked() {
	s.jw.Flush()
	s.journal.Close()
	os.Rename(s.jpath, s.jpath+".1")
	f, err := os.OpenFile(s.jpath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.jw = nil
		return
	}
	s.journal = f
	s.jsize = 0
	s.jw.Reset(f)
}

// Sync writes the final records kept in memory to the journal file and
// flushes it to disk. The background journal calls it before it journals
// runs as final, so a run is never dropped from there while its record is
// not yet in the history.
func (s *Store) Sync() error {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.jw == nil {
		return nil
	}
	if err := s.jw.Flush(); err != nil {
		return err
	}
	return s.journal.Sync()
}

// Close flushes and closes the journal.
func (s *Store) Close() error {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.jtimer != nil {
		s.jtimer.Stop()
		s.jtimer = nil
	}
	if s.jw == nil {
		return nil
	}
	err := s.jw.Flush()
	if cerr := s.journal.Close(); err == nil {
		err = cerr
	}
	s.jw = nil
	return err
}
