package background

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// tracker is an invoker whose attempts take d and which counts how many
// run at once.
type tracker struct {
	d        time.Duration
	mu       sync.Mutex
	now      int
	peak     int
	finished int
}

func (tr *tracker) Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error) {
	tr.mu.Lock()
	tr.now++
	tr.peak = max(tr.peak, tr.now)
	tr.mu.Unlock()
	time.Sleep(tr.d)
	tr.mu.Lock()
	tr.now--
	tr.finished++
	tr.mu.Unlock()
	return &runtime.Result{Pid: 7}, nil
}

// takePeak returns the most attempts that ran at once since the last call,
// and starts counting again from those running now.
func (tr *tracker) takePeak() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	p := tr.peak
	tr.peak = tr.now
	return p
}

func (tr *tracker) running() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.now
}

// TestBurstOfAccepts: while accepts arrive faster than 400 a second,
// attempts already running go on and at most BurstRunning start; once the
// burst is over the queue runs MaxRunning at once again, and every
// accepted invocation runs.
func TestBurstOfAccepts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &tracker{d: 10 * time.Millisecond}
		q, _, _ := newQueue(t, tr, Options{MaxRunning: 4})
		var recs []*records.Record
		for i := range 400 {
			if i == 40 {
				// 20 ms in: what started before the burst has ended.
				if p := tr.takePeak(); p != 4 {
					t.Errorf("before the burst: %d attempts at once, want MaxRunning (4)", p)
				}
			}
			recs = append(recs, accept(t, q))
			time.Sleep(500 * time.Microsecond) // 2,000 accepts a second
		}
		if p := tr.takePeak(); p > DefaultBurstRunning {
			t.Errorf("during the burst: %d attempts at once, want at most %d", p, DefaultBurstRunning)
		}
		time.Sleep(burstHold + time.Millisecond)
		synctest.Wait()
		if n := tr.running(); n != 2*DefaultBurstRunning {
			t.Errorf("as the burst ends: %d attempts at once, want %d", n, 2*DefaultBurstRunning)
		}
		time.Sleep(rampEvery)
		synctest.Wait()
		if n := tr.running(); n != 4 {
			t.Errorf("after the burst: %d attempts at once, want MaxRunning (4)", n)
		}
		for _, r := range recs {
			<-r.Done()
			if r.Status() != records.Succeeded {
				t.Fatalf("%s: %s, want succeeded", r.ID(), r.Status())
			}
		}
	})
}

// TestTrickleOfAccepts: accepts below the burst rate never hold attempts
// back.
func TestTrickleOfAccepts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &tracker{d: time.Second}
		q, _, _ := newQueue(t, tr, Options{MaxRunning: 8})
		for range 12 {
			accept(t, q)
			time.Sleep(5 * time.Millisecond) // 200 a second, below the burst rate
			synctest.Wait()
		}
		if n := tr.running(); n != 8 {
			t.Errorf("%d attempts at once, want MaxRunning (8)", n)
		}
	})
}

// TestBurstDetection: what starts a burst, and when it ends.
func TestBurstDetection(t *testing.T) {
	tests := []struct {
		name string
		// gap is the time between accepts; done says whether each one
		// ends before the next arrives.
		gap   time.Duration
		n     int
		done  bool
		burst bool
	}{
		{"one accept", 0, 1, true, false},
		{"a trickle", 5 * time.Millisecond, 50, true, false},
		{"400 a second", burstWindow / burstAccepts, 20, true, true},
		{"a few at once", 0, burstInflight - 1, false, false},
		{"many at once", time.Millisecond, burstInflight, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// Each step of the ramp calls ended from a timer of its own.
				var ended atomic.Int32
				b := &burst{ended: func() { ended.Add(1) }}
				for range tt.n {
					b.note(time.Now())
					if tt.done {
						b.done()
					}
					time.Sleep(tt.gap)
				}
				if got := b.active(); got != tt.burst {
					t.Fatalf("burst = %v, want %v", got, tt.burst)
				}
				time.Sleep(burstHold + burstWindow)
				synctest.Wait()
				if b.active() {
					t.Errorf("still a burst %v after the last accept", burstHold+burstWindow)
				}
				time.Sleep(10 * rampEvery)
				synctest.Wait()
				if f := b.limitFactor(); f != 0 {
					t.Errorf("limit factor %d after the ramp, want none", f)
				}
				if n := ended.Load(); tt.burst != (n > 0) {
					t.Errorf("ended called %d times", n)
				}
			})
		})
	}
}

// TestLongBurstHolds: a burst that went on for a second outlasts a
// stall of its clients of 200 ms.
func TestLongBurstHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &burst{ended: func() {}}
		for range 1000 {
			b.note(time.Now())
			b.done()
			time.Sleep(time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		if !b.active() {
			t.Fatal("a one-second burst ended after a 200 ms pause")
		}
		time.Sleep(maxBurstHold)
		if b.active() {
			t.Fatalf("still a burst %v after the last accept", maxBurstHold+200*time.Millisecond)
		}
	})
}

// TestSteadyLoadIsNotABurst: accepts that go on past maxLimited at the
// burst rate are a steady load: the queue runs MaxRunning at once again
// while they still arrive, and every invocation runs.
func TestSteadyLoadIsNotABurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &tracker{d: 20 * time.Millisecond}
		q, _, _ := newQueue(t, tr, Options{MaxRunning: 4})
		var recs []*records.Record
		began := time.Now()
		deadline := began.Add(maxLimited + 500*time.Millisecond)
		limitedPeak := 0
		for time.Now().Before(deadline) {
			recs = append(recs, accept(t, q))
			time.Sleep(time.Millisecond) // 1,000 accepts a second
			// What started before the burst was seen has ended by 100 ms.
			if age := time.Since(began); age > 100*time.Millisecond && age < maxLimited-100*time.Millisecond {
				limitedPeak = max(limitedPeak, tr.running())
			}
		}
		if limitedPeak > DefaultBurstRunning {
			t.Errorf("in the first %v: %d attempts at once, want at most %d", maxLimited, limitedPeak, DefaultBurstRunning)
		}
		if !q.burst.active() {
			t.Fatal("the accepts did not count as a burst")
		}
		if n := tr.running(); n != 4 {
			t.Errorf("%v into the load, accepts still arriving: %d attempts at once, want MaxRunning (4)", maxLimited+500*time.Millisecond, n)
		}
		for _, r := range recs {
			<-r.Done()
			if r.Status() != records.Succeeded {
				t.Fatalf("%s: %s, want succeeded", r.ID(), r.Status())
			}
		}
	})
}

// TestRampAfterBurst: after a burst the limit doubles step by step, and a
// burst that comes back during the ramp brings it down again.
func TestRampAfterBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &burst{ended: func() {}}
		many := func() {
			for range burstAccepts {
				b.note(time.Now())
				b.done()
			}
		}
		many()
		if f := b.limitFactor(); f != 1 {
			t.Fatalf("factor %d during a burst, want 1", f)
		}
		time.Sleep(burstHold + time.Millisecond)
		if f := b.limitFactor(); f != 2 {
			t.Fatalf("factor %d as the burst ends, want 2", f)
		}
		time.Sleep(rampEvery)
		if f := b.limitFactor(); f != 4 {
			t.Fatalf("factor %d a step later, want 4", f)
		}
		many()
		if f := b.limitFactor(); f != 1 || !b.active() {
			t.Fatalf("factor %d (burst %v) when a burst comes back, want 1", f, b.active())
		}
		time.Sleep(burstHold + time.Millisecond)
		if f := b.limitFactor(); f != 2 {
			t.Fatalf("factor %d as the second burst ends, want 2", f)
		}
	})
}

// TestBurstCrashResumes: 50 accepts at once (a burst) each return only
// once their line is in the journal; a crash then (the file as it is,
// read by the next bgfn) finds every one of them, most never started
// (accepted, not yet begun), and resuming runs them all.
func TestBurstCrashResumes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.jsonl")
	held := &scripted{outcomes: []error{nil}, block: make(chan struct{})}
	q, _, _, _ := journaled(t, path, held, Options{MaxRunning: 8})
	const n = 50
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec, err := q.Accept(Invocation{Function: "job-background", Kind: "background", Method: "POST", URI: "/.netlify/functions/job-background",
				Req: &runtime.Request{ID: records.NewID(), Event: []byte(`{"body":"x"}`)}})
			if err != nil {
				t.Error(err)
				return
			}
			if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(`"id":"`+rec.ID()+`"`)) {
				t.Errorf("Accept(%s) returned before its line was in the journal", rec.ID())
			}
			ids <- rec.ID()
		})
	}
	wg.Wait()
	close(ids)
	// The crash: the next bgfn reads the file as it is now.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "next", "journal.jsonl")
	os.MkdirAll(filepath.Dir(next), 0o755)
	if err := os.WriteFile(next, b, 0o644); err != nil {
		t.Fatal(err)
	}
	q2, _, rec, _ := journaled(t, next, &scripted{outcomes: []error{nil}}, Options{MaxRunning: 8})
	if len(rec.Unfinished) != n {
		t.Fatalf("%d unfinished runs after the crash, want %d", len(rec.Unfinished), n)
	}
	queued := 0
	for _, r := range rec.Unfinished {
		if len(r.Attempts) == 0 {
			queued++
		}
	}
	if queued < n-8 {
		t.Errorf("%d of %d runs never started, want at least %d (at most MaxRunning start)", queued, n, n-8)
	}
	q2.Recover(rec.Unfinished)
	resumed, err := q2.Resume()
	if err != nil || len(resumed) != n {
		t.Fatalf("Resume = %d runs, %v", len(resumed), err)
	}
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	for _, r := range resumed {
		waitDone(t, r)
		if !want[r.ID()] || r.Status() != records.Succeeded {
			t.Errorf("resumed %s: %s (accepted: %v)", r.ID(), r.Status(), want[r.ID()])
		}
	}
}
