package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// TestEncodeEntry: an accept line with its event spliced in is the line
// encoding/json writes, byte for byte, whatever the request and the
// client context hold; an event that is not one compact line goes through
// encoding/json.
func TestEncodeEntry(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Run)
	}{
		{"plain", func(r *Run) {}},
		{"header that looks like the event key", func(r *Run) {
			r.Request.Headers = map[string]string{`,"event":null`: `,"event":null`, "event": "null"}
		}},
		{"client context with an event key", func(r *Run) {
			r.ClientContext = json.RawMessage(`{"event":null,"x":{"event":null}}`)
		}},
		{"attempts and params", func(r *Run) {
			r.Params = map[string]string{"event": "null"}
			r.Attempts = []records.Attempt{{N: 1, Status: records.Failed, StartedAt: t0, Error: &records.Error{Type: "E", Message: `"event":null`}}}
			r.Status = records.Interrupted
		}},
		{"event with a newline", func(r *Run) {
			r.Event = json.RawMessage("{\"path\":\"/x\",\n \"body\":\"{}\"}")
		}},
		{"no event", func(r *Run) { r.Event = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run("01", 1)
			tt.edit(r)
			e := &entry{Op: opAccept, Run: r}
			got, err := encodeEntry(e)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encodeEntry:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestCompactionCopiesLines: while nearly every run is still queued, the
// journal is not rewritten (that would copy almost all of it); once most
// have ended it is, and the runs that never changed since their accept,
// spilled ones included, come back with their events as they were.
func TestCompactionCopiesLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{MaxSize: 4 << 10})
	const n = 300
	for i := range n {
		id := fmt.Sprintf("%05d", i)
		r := run(id, i)
		r.Event = eventOf(id)
		if err := j.Accept(r); err != nil {
			t.Fatal(err)
		}
		j.Spill(id)
	}
	if fi, _ := os.Stat(path); j.rewritesNow() != 0 {
		t.Fatalf("%d compactions of a %d-byte journal whose runs are all queued", j.rewritesNow(), fi.Size())
	}
	var kept []string
	for i := range n {
		id := fmt.Sprintf("%05d", i)
		switch {
		case i%10 == 0:
			kept = append(kept, id)
		case i%10 == 1:
			// Changed since its accept: encoded again, with its attempt.
			if err := j.Start(id, 1, t0); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, id)
		default:
			j.Final(id, records.Succeeded, t0)
		}
		// A batch of its own, so the journal sees itself grow.
		if err := j.Start("none", 1, t0); err != nil {
			t.Fatal(err)
		}
	}
	if j.rewritesNow() == 0 {
		t.Fatal("no compaction once most runs ended")
	}
	for _, id := range kept {
		ev, err := j.Event(id)
		if err != nil || !bytes.Equal(ev, eventOf(id)) {
			t.Fatalf("Event(%s) after compaction = %s, %v", id, ev, err)
		}
	}
	j.Close()
	_, rec := open(t, path, Options{MaxSize: 4 << 10})
	if len(rec.Warnings) > 0 {
		t.Errorf("warnings: %v", rec.Warnings)
	}
	if len(rec.Unfinished) != len(kept) {
		t.Fatalf("%d unfinished after reopening, want %d", len(rec.Unfinished), len(kept))
	}
	for i, r := range rec.Unfinished {
		if r.ID != kept[i] || !bytes.Equal(r.Event, eventOf(r.ID)) {
			t.Fatalf("run %d: %s with event %s", i, r.ID, r.Event)
		}
		if started := len(r.Attempts) == 1; started != (i%2 == 1) {
			t.Errorf("%s: attempts %+v", r.ID, r.Attempts)
		}
	}
}

// rewritesNow is how many compactions there were, for tests.
func (j *Journal) rewritesNow() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rewrites
}
