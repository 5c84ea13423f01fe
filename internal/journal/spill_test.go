package journal

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// eventOf is a distinct event per run, so a read-back from the wrong line
// shows.
func eventOf(id string) json.RawMessage {
	return json.RawMessage(`{"path":"/.netlify/functions/job-background","body":"` + id + `"}`)
}

// TestSpill: a spilled run's event is read back from its accept line,
// also after compactions moved it, and Resume returns it; a run not yet
// in the file, or unknown, does not spill.
func TestSpill(t *testing.T) {
	tests := []struct {
		name    string
		maxSize int64 // small: compactions while runs are spilled
		runs    int
	}{
		{"no compaction", 64 << 20, 50},
		{"compactions move the lines", 2 << 10, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _ := open(t, filepath.Join(t.TempDir(), "journal.jsonl"), Options{MaxSize: tt.maxSize})
			for i := range tt.runs {
				id := fmt.Sprintf("%05d", i)
				r := run(id, i)
				r.Event = eventOf(id)
				if err := j.Accept(r); err != nil {
					t.Fatal(err)
				}
				if !j.Spill(id) {
					t.Fatalf("run %s did not spill once written", id)
				}
				// Runs that end make the journal grow and compact.
				done := fmt.Sprintf("done%05d", i)
				if err := j.Accept(run(done, i)); err != nil {
					t.Fatal(err)
				}
				j.Final(done, records.Succeeded, t0)
			}
			for i := range tt.runs {
				id := fmt.Sprintf("%05d", i)
				ev, err := j.Event(id)
				if err != nil {
					t.Fatalf("Event(%s): %v", id, err)
				}
				if string(ev) != string(eventOf(id)) {
					t.Fatalf("Event(%s) = %s, want %s", id, ev, eventOf(id))
				}
			}
			if j.Spill("nope") {
				t.Error("an unknown run spilled")
			}
			if _, err := j.Event("nope"); err == nil {
				t.Error("Event of an unknown run did not fail")
			}

			// Interrupted spilled runs come back whole from Resume.
			for i := range tt.runs {
				j.Final(fmt.Sprintf("%05d", i), records.Interrupted, t0)
			}
			runs, err := j.Resume()
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tt.runs {
				t.Fatalf("Resume gave %d runs, want %d", len(runs), tt.runs)
			}
			for _, r := range runs {
				if string(r.Event) != string(eventOf(r.ID)) {
					t.Fatalf("resumed %s with event %s", r.ID, r.Event)
				}
			}
		})
	}
}
