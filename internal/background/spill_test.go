package background

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// eventSeer records the event each invocation starts with.
type eventSeer struct {
	mu   sync.Mutex
	seen map[string]string
	gate chan struct{}
}

func (e *eventSeer) Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error) {
	<-e.gate
	e.mu.Lock()
	e.seen[req.ID] = string(req.Event)
	e.mu.Unlock()
	return &runtime.Result{Pid: 7}, nil
}

// TestSpill: past SpillAfter queued invocations, events stay only in the
// journal and every invocation still starts with its own event; without a
// journal, or with a negative SpillAfter, nothing spills.
func TestSpill(t *testing.T) {
	tests := []struct {
		name       string
		journal    bool
		spillAfter int
		wantSpill  bool
	}{
		{"past the bound", true, 3, true},
		{"never", true, -1, false},
		{"no journal", false, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &eventSeer{seen: map[string]string{}, gate: make(chan struct{})}
			o := Options{MaxRunning: 1, SpillAfter: tt.spillAfter}
			var q *Queue
			if tt.journal {
				q, _, _, _ = journaled(t, filepath.Join(t.TempDir(), "journal.jsonl"), inv, o)
			} else {
				q, _, _ = newQueue(t, inv, o)
			}
			want := map[string]string{}
			var recs []*records.Record
			spilled := 0
			for i := range 20 {
				id := records.NewID()
				ev, _ := json.Marshal(map[string]any{"path": "/.netlify/functions/job-background", "body": id, "n": i})
				rec, err := q.Accept(Invocation{Function: "job-background", Kind: "background", Method: "POST",
					URI: "/.netlify/functions/job-background", Req: &runtime.Request{ID: id, Event: ev}})
				if err != nil {
					t.Fatal(err)
				}
				want[id] = string(ev)
				recs = append(recs, rec)
				q.mu.Lock()
				if it := q.runs[id]; it != nil && it.spilled {
					spilled++
				}
				q.mu.Unlock()
			}
			if tt.wantSpill && spilled < 20-tt.spillAfter-1 {
				t.Errorf("%d of 20 queued invocations spilled, want at least %d", spilled, 20-tt.spillAfter-1)
			}
			if !tt.wantSpill && spilled > 0 {
				t.Errorf("%d invocations spilled, want none", spilled)
			}
			close(inv.gate)
			for _, rec := range recs {
				waitDone(t, rec)
				if rec.Status() != records.Succeeded {
					t.Errorf("%s ended %s", rec.ID(), rec.Status())
				}
			}
			for id, ev := range want {
				if got := inv.seen[id]; got != ev {
					t.Errorf("%s started with event %q, want %q", id, got, ev)
				}
			}
			if n := q.held.Load(); n != 0 {
				t.Errorf("%d invocations still counted as holding their events", n)
			}
		})
	}
}
