package journal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// Version is the format version written on the first line of a journal.
const Version = 1

// Run is one accepted background invocation as the journal keeps it:
// everything needed to run it again with the same id.
type Run struct {
	ID       string `json:"id"`
	Function string `json:"fn"`
	Kind     string `json:"kind,omitempty"`
	// MaxAttempts is the attempts the run was accepted with; an attempt
	// that bgfn interrupted does not use one up (see EffectiveMax).
	MaxAttempts int       `json:"max"`
	CreatedAt   time.Time `json:"at"`
	// Request is what the record shows of the request, body included.
	Request records.Request `json:"req"`
	// Event is the Netlify event the function gets, as JSON; with
	// ClientContext and Params it is the whole invocation.
	Event         json.RawMessage   `json:"event"`
	ClientContext json.RawMessage   `json:"cc,omitempty"`
	Params        map[string]string `json:"params,omitempty"`
	ReplayOf      string            `json:"replayOf,omitempty"`

	// Attempts and Status are the run's state: written by compaction,
	// and set in the runs Open and Resume return. Status is empty while
	// the run is unfinished and Interrupted once it is resumable.
	Attempts []records.Attempt `json:"attempts,omitempty"`
	Status   records.Status    `json:"status,omitempty"`

	// at is where the run's accept line is in the journal file, once it
	// is written: a spilled run (Spill) has no Event in memory and reads
	// it from there.
	at loc
	// exact is set while the run is what its accept line says: nothing
	// has changed it since, so compaction copies the line as it is
	// instead of encoding the run again (issue 19).
	exact bool
}

// loc is a line's offset and length in the journal file.
type loc struct{ off, n int64 }

// EffectiveMax is how many attempts the run may have: those it was
// accepted with, plus one for each attempt bgfn interrupted.
func (r *Run) EffectiveMax() int {
	n := r.MaxAttempts
	for _, a := range r.Attempts {
		if a.Status == records.Interrupted {
			n++
		}
	}
	return n
}

// Body is the request body as the function got it, decoded from the
// record's copy; nil when there is none.
func (r *Run) Body() []byte {
	b, err := records.DecodeBody(r.Request)
	if err != nil {
		return nil
	}
	return b
}

// clone copies r deeply enough for a snapshot: the attempts can change
// afterwards, the rest never does.
func (r *Run) clone() *Run {
	c := *r
	c.Attempts = slices.Clone(r.Attempts)
	for i := range c.Attempts {
		if e := c.Attempts[i].EndedAt; e != nil {
			t := *e
			c.Attempts[i].EndedAt = &t
		}
	}
	return &c
}

// Ops of journal lines.
const (
	opHeader = "journal"
	opAccept = "accept"
	opStart  = "start"
	opEnd    = "end"
	opFinal  = "final"
	opResume = "resume"
)

// entry is one line of the journal.
type entry struct {
	Op      string           `json:"op"`
	Version int              `json:"version,omitempty"`
	ID      string           `json:"id,omitempty"`
	N       int              `json:"n,omitempty"`
	At      *time.Time       `json:"at,omitempty"`
	Status  records.Status   `json:"status,omitempty"`
	Attempt *records.Attempt `json:"attempt,omitempty"`
	Run     *Run             `json:"run,omitempty"`
}

// state is what the journal's lines add up to: the runs that are
// unfinished or resumable. Runs that ended are dropped.
type state struct {
	runs map[string]*Run
}

func newState() *state { return &state{runs: make(map[string]*Run)} }

// interruptedError is what an attempt that was running when its run was
// recorded as interrupted says, when nothing more precise was journaled.
var interruptedError = &records.Error{Type: "Interrupted", Message: "bgfn stopped during the invocation"}

// apply changes the state by one entry. Entries about runs the state does
// not hold (they ended, or compaction dropped them) change nothing.
func (s *state) apply(e *entry) error {
	switch e.Op {
	case opHeader:
		if e.Version > Version {
			return fmt.Errorf("journal format version %d is newer than this bgfn's (%d)", e.Version, Version)
		}
		return nil
	case opAccept:
		if e.Run == nil || e.Run.ID == "" || e.Run.Function == "" {
			return fmt.Errorf("accept without a run")
		}
		e.Run.exact = len(e.Run.Attempts) == 0 && e.Run.Status == ""
		s.runs[e.Run.ID] = e.Run
		return nil
	case opStart, opEnd, opFinal, opResume:
	default:
		return fmt.Errorf("unknown op %q", e.Op)
	}
	r, ok := s.runs[e.ID]
	if !ok {
		return nil
	}
	r.exact = false
	switch e.Op {
	case opStart:
		if e.N < 1 {
			return fmt.Errorf("start of attempt %d", e.N)
		}
		a := records.Attempt{N: e.N, Status: records.Running}
		if e.At != nil {
			a.StartedAt = *e.At
		}
		setAttempt(r, a)
		r.Status = ""
	case opEnd:
		if e.Attempt == nil || e.Attempt.N < 1 {
			return fmt.Errorf("end without an attempt")
		}
		setAttempt(r, *e.Attempt)
	case opFinal:
		if !e.Status.Final() {
			return fmt.Errorf("final status %q", e.Status)
		}
		if e.Status != records.Interrupted {
			delete(s.runs, e.ID)
			return nil
		}
		r.Status = records.Interrupted
		for i := range r.Attempts {
			if a := &r.Attempts[i]; a.Status == records.Running {
				a.Status = records.Interrupted
				a.EndedAt = e.At
				a.Error = interruptedError
			}
		}
	case opResume:
		r.Status = ""
	}
	return nil
}

// setAttempt puts a in r's attempts at its number, replacing what was
// there; a gap (a start line lost to a failed write) is filled with what
// little is known.
func setAttempt(r *Run, a records.Attempt) {
	for len(r.Attempts) < a.N-1 {
		n := len(r.Attempts) + 1
		r.Attempts = append(r.Attempts, records.Attempt{N: n, Status: records.Interrupted, Error: interruptedError})
	}
	if len(r.Attempts) >= a.N {
		r.Attempts[a.N-1] = a
		return
	}
	r.Attempts = append(r.Attempts, a)
}

// list returns copies of the runs that match keep, oldest first.
func (s *state) list(keep func(*Run) bool) []Run {
	var out []Run
	for _, r := range s.runs {
		if keep(r) {
			out = append(out, *r.clone())
		}
	}
	sortRuns(out)
	return out
}

func sortRuns(rs []Run) {
	slices.SortFunc(rs, func(a, b Run) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
