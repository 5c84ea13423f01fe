package background

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/journal"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// scripted answers attempt n with outcomes[n-1] (the last one repeats);
// a nil outcome succeeds.
type scripted struct {
	mu       sync.Mutex
	outcomes []error
	calls    int
	block    chan struct{} // when set, attempts wait for it or ctx
}

func (s *scripted) Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error) {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	req.Log(runtime.Stdout, []byte("attempt running"))
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	err := s.outcomes[min(n, len(s.outcomes))-1]
	if err != nil {
		return nil, err
	}
	return &runtime.Result{Pid: 7}, nil
}

// flushed is the printer's output so far.
type flushed struct {
	p *logs.Printer
	b *syncBuffer
}

func (f flushed) String() string {
	f.p.Flush()
	return f.b.String()
}

// syncBuffer is a buffer the printer's own flush timer may write while a
// test reads it (the race detector saw bytes.Buffer grow under String).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newQueue(t *testing.T, inv Invoker, o Options) (*Queue, *records.Store, flushed) {
	t.Helper()
	st, err := records.NewStore(100, "")
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	o.Records, o.Printer = st, logs.NewPrinter(&out, false)
	f := flushed{o.Printer, &out}
	o.Lookup = func(name string) (Invoker, bool) { return inv, name == "job-background" }
	q := New(o)
	t.Cleanup(func() { q.Close(context.Background()) })
	return q, st, f
}

func accept(t *testing.T, q *Queue) *records.Record {
	t.Helper()
	rec, err := q.Accept(Invocation{Function: "job-background", Kind: "background", Method: "POST", URI: "/.netlify/functions/job-background",
		Req: &runtime.Request{ID: records.NewID()}})
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return rec
}

func TestRetries(t *testing.T) {
	boom := &runtime.FunctionError{Type: "Error", Message: "boom"}
	tests := []struct {
		name      string
		outcomes  []error
		retries   int
		want      records.Status
		attempts  int
		wantLines []string
	}{
		{"succeeds at once", []error{nil}, 2, records.Succeeded, 1, []string{"✔ succeeded in"}},
		{"succeeds on the third attempt", []error{boom, boom, nil}, 2, records.Succeeded, 3, []string{"✖ failed (attempt 1/3)", "— retrying in 1m", "✔ succeeded in 0s (attempt 3/3)"}},
		{"fails after the retries", []error{boom}, 2, records.Failed, 3, []string{"✖ failed (attempt 3/3) after 0s: Error: boom"}},
		{"no retries", []error{boom}, 0, records.Failed, 1, []string{"✖ failed (attempt 1/1)"}},
		{"timeouts are retried and recorded", []error{&runtime.TimeoutError{Limit: time.Second, Pid: 3}}, 1, records.TimedOut, 2, []string{"✖ timed out (attempt 2/2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inv := &scripted{outcomes: tt.outcomes}
				q, _, out := newQueue(t, inv, Options{Retries: tt.retries})
				rec := accept(t, q)
				// The default delays are Netlify's 1 and 2 minutes.
				time.Sleep(4 * time.Minute)
				synctest.Wait()
				v := rec.View()
				if v.Status != tt.want || len(v.Attempts) != tt.attempts || v.MaxAttempts != tt.retries+1 {
					t.Fatalf("record: %s after %d attempts (max %d), want %s after %d", v.Status, len(v.Attempts), v.MaxAttempts, tt.want, tt.attempts)
				}
				if len(v.Logs) != tt.attempts || v.Logs[tt.attempts-1].Attempt != tt.attempts {
					t.Errorf("logs = %+v", v.Logs)
				}
				for _, l := range tt.wantLines {
					if !strings.Contains(out.String(), l) {
						t.Errorf("output lacks %q:\n%s", l, out)
					}
				}
			})
		})
	}
}

func TestRetryWaitsItsDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inv := &scripted{outcomes: []error{errors.New("flaky"), nil}}
		q, _, _ := newQueue(t, inv, Options{Retries: 2, RetryDelays: []time.Duration{30 * time.Second}})
		rec := accept(t, q)
		synctest.Wait()
		v := rec.View()
		if v.Status != records.Retrying || v.NextRetryAt == nil {
			t.Fatalf("after the first attempt: %s, next %v", v.Status, v.NextRetryAt)
		}
		time.Sleep(29 * time.Second)
		synctest.Wait()
		if rec.Status() != records.Retrying {
			t.Fatalf("retried before its delay: %s", rec.Status())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if rec.Status() != records.Succeeded {
			t.Errorf("after the delay: %s", rec.Status())
		}
	})
}

func TestMaxRunningAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inv := &scripted{outcomes: []error{nil}, block: make(chan struct{})}
		q, st, out := newQueue(t, inv, Options{MaxRunning: 2})
		var recs []*records.Record
		for range 4 {
			recs = append(recs, accept(t, q))
		}
		synctest.Wait()
		var got []records.Status
		for _, r := range recs {
			got = append(got, r.Status())
		}
		want := []records.Status{records.Running, records.Running, records.Queued, records.Queued}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("statuses = %v, want %v", got, want)
			}
		}
		q.Close(context.Background())
		for i, r := range recs {
			if r.Status() != records.Interrupted {
				t.Errorf("invocation %d: %s after Close, want interrupted", i, r.Status())
			}
		}
		if n := len(st.Unfinished()); n != 0 {
			t.Errorf("%d unfinished after Close", n)
		}
		if !strings.Contains(out.String(), "⏹ interrupted after") {
			t.Errorf("no interrupted line:\n%s", out)
		}
	})
}

func TestGoneFunctionFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _, _ := newQueue(t, &scripted{outcomes: []error{nil}}, Options{Retries: 0})
		rec, _ := q.Accept(Invocation{Function: "removed-background", Kind: "background", Req: &runtime.Request{ID: records.NewID()}})
		synctest.Wait()
		v := rec.View()
		if v.Status != records.Failed || v.Attempts[0].Error == nil || !strings.Contains(v.Attempts[0].Error.Message, "no longer exists") {
			t.Errorf("record = %+v", v)
		}
	})
}

// journaled is a queue with a journal in a temporary folder.
func journaled(t *testing.T, path string, inv Invoker, o Options) (*Queue, *journal.Journal, *journal.Recovery, flushed) {
	t.Helper()
	j, rec, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Journal = j
	q, _, out := newQueue(t, inv, o)
	t.Cleanup(func() {
		q.Close(context.Background())
		j.Close()
	})
	return q, j, rec, out
}

func waitDone(t *testing.T, rec *records.Record) {
	t.Helper()
	select {
	case <-rec.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still %s after 10s", rec.ID(), rec.Status())
	}
}

// TestJournalCrashRecoverResume: runs a bgfn left unfinished (accepted,
// one of them during its first attempt) are recorded as interrupted at the
// next start, saying an attempt may have run, and resumed with their ids
// from their next attempt; the interrupted attempt does not use up a
// retry. Once they end, the journal holds nothing more.
func TestJournalCrashRecoverResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	// The bgfn that was killed: what it journaled, and no final line.
	j, _, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string) *journal.Run {
		return &journal.Run{ID: id, Function: "job-background", Kind: "background", MaxAttempts: 3, CreatedAt: time.Now(),
			Request: records.Request{Method: "POST", Path: "/.netlify/functions/job-background", Body: "hi"}, Event: []byte(`{"body":"hi"}`)}
	}
	j.Accept(mk("running"))
	j.Start("running", 1, time.Now())
	j.Accept(mk("queued"))
	j.Close()

	inv := &scripted{outcomes: []error{nil}}
	q, j2, rec, out := journaled(t, path, inv, Options{Retries: 2})
	if len(rec.Unfinished) != 2 {
		t.Fatalf("unfinished at start: %d, want 2", len(rec.Unfinished))
	}
	recovered := q.Recover(rec.Unfinished)
	if len(recovered) != 2 {
		t.Fatalf("Recover gave %d records", len(recovered))
	}
	v := recovered[0].View()
	if v.ID != "running" || v.Status != records.Interrupted || len(v.Attempts) != 1 || v.Attempts[0].Status != records.Interrupted ||
		v.Attempts[0].Error == nil || !strings.Contains(v.Attempts[0].Error.Message, "at-least-once") || v.MaxAttempts != 3 {
		t.Errorf("recovered running run = %+v", v)
	}
	if v := recovered[1].View(); v.Status != records.Interrupted || len(v.Attempts) != 0 || v.Request.Body != "hi" {
		t.Errorf("recovered queued run = %+v", v)
	}
	if n := len(j2.Interrupted()); n != 2 {
		t.Fatalf("%d resumable runs after Recover, want 2", n)
	}

	resumed, err := q.Resume()
	if err != nil || len(resumed) != 2 {
		t.Fatalf("Resume = %d records, %v", len(resumed), err)
	}
	for _, r := range resumed {
		waitDone(t, r)
	}
	v = resumed[0].View()
	if v.ID != "running" || v.Status != records.Succeeded || len(v.Attempts) != 2 || v.Attempts[1].Status != records.Succeeded || v.MaxAttempts != 4 {
		t.Errorf("resumed running run = %s with %d attempts (max %d), want succeeded on attempt 2 of 4", v.Status, len(v.Attempts), v.MaxAttempts)
	}
	if v := resumed[1].View(); v.Status != records.Succeeded || len(v.Attempts) != 1 || v.MaxAttempts != 3 {
		t.Errorf("resumed queued run = %s with %d attempts (max %d)", v.Status, len(v.Attempts), v.MaxAttempts)
	}
	if !strings.Contains(out.String(), "↻ resumed (attempt 2/4 next)") {
		t.Errorf("no resumed line:\n%s", out)
	}
	if again, _ := q.Resume(); len(again) != 0 {
		t.Errorf("resumed twice: %d", len(again))
	}
	q.Close(context.Background())
	j2.Close()
	j3, rec3, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j3.Close()
	if len(rec3.Unfinished) != 0 || len(j3.Interrupted()) != 0 {
		t.Errorf("after they succeeded the journal still holds %d unfinished, %d interrupted", len(rec3.Unfinished), len(j3.Interrupted()))
	}
}

// TestJournalShutdown: what a shutdown interrupts (running, queued,
// waiting for a retry) is journaled as interrupted, so it can be
// resumed; what ended is not kept.
func TestJournalShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	inv := &scripted{outcomes: []error{nil}, block: make(chan struct{})}
	q, j, _, _ := journaled(t, path, inv, Options{MaxRunning: 1})
	running, queued := accept(t, q), accept(t, q)
	deadline := time.Now().Add(10 * time.Second)
	for running.Status() != records.Running && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	q.Close(context.Background())
	got := j.Interrupted()
	if len(got) != 2 || got[0].ID != running.ID() || got[1].ID != queued.ID() {
		t.Fatalf("resumable after shutdown: %+v", got)
	}
	if a := got[0].Attempts; len(a) != 1 || a[0].Status != records.Interrupted {
		t.Errorf("the running run's attempts: %+v", a)
	}
}

// TestJournalRefusesAccept: when the journal cannot take an invocation it
// is not accepted, and no record is made.
func TestJournalRefusesAccept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	q, j, _, _ := journaled(t, path, &scripted{outcomes: []error{nil}}, Options{})
	j.Close()
	_, err := q.Accept(Invocation{Function: "job-background", Kind: "background", Req: &runtime.Request{ID: "not-accepted"}})
	if !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Accept with a closed journal = %v", err)
	}
	if _, ok := q.opts.Records.Get("not-accepted"); ok {
		t.Errorf("a record was made for an invocation that was not accepted")
	}
}
