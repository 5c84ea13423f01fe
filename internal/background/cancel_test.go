package background

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// Cancel ends a running attempt (its context), a queued run (which then
// never starts) and a run waiting for its retry, each as cancelled with no
// further attempt.
func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := &runtime.FunctionError{Type: "Error", Message: "boom"}
		inv := &scripted{outcomes: []error{nil}, block: make(chan struct{})}
		q, _, out := newQueue(t, inv, Options{Retries: 2, RetryDelays: []time.Duration{time.Hour}, MaxRunning: 1})
		running, queued := accept(t, q), accept(t, q)
		synctest.Wait()
		if running.Status() != records.Running || queued.Status() != records.Queued {
			t.Fatalf("statuses %s, %s", running.Status(), queued.Status())
		}
		if _, err := q.Cancel(queued.ID()); err != nil {
			t.Fatal(err)
		}
		if queued.Status() != records.Cancelled {
			t.Errorf("queued run after cancel: %s", queued.Status())
		}
		if _, err := q.Cancel(running.ID()); err != nil {
			t.Fatal(err)
		}
		<-running.Done()
		synctest.Wait()
		v := running.View()
		if v.Status != records.Cancelled || len(v.Attempts) != 1 || v.Attempts[0].Status != records.Cancelled {
			t.Errorf("running run after cancel: %s %+v", v.Status, v.Attempts)
		}
		if inv.calls != 1 {
			t.Errorf("%d attempts ran, want 1: the cancelled queued run must never start", inv.calls)
		}
		if _, err := q.Cancel(running.ID()); !isConflict(err) {
			t.Errorf("second cancel: %v, want a conflict", err)
		}
		if _, err := q.Cancel("nope"); !errors.Is(err, ErrUnknown) {
			t.Errorf("cancel of an unknown id: %v", err)
		}

		// A run waiting an hour for its retry: cancelled, and the hour
		// passes with no attempt.
		inv2 := &scripted{outcomes: []error{boom}}
		q.opts.Lookup = func(string) (Invoker, bool) { return inv2, true }
		waiting := accept(t, q)
		synctest.Wait()
		if waiting.Status() != records.Retrying {
			t.Fatalf("status %s, want retrying", waiting.Status())
		}
		q.Cancel(waiting.ID())
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if waiting.Status() != records.Cancelled || inv2.calls != 1 {
			t.Errorf("waiting run: %s after %d attempts", waiting.Status(), inv2.calls)
		}
		_ = out.String()
	})
}

// RetryNow starts a waiting run's next attempt at once; it is a conflict
// for a run that is not waiting.
func TestRetryNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := &runtime.FunctionError{Type: "Error", Message: "boom"}
		inv := &scripted{outcomes: []error{boom, nil}}
		q, _, _ := newQueue(t, inv, Options{Retries: 2, RetryDelays: []time.Duration{time.Hour}})
		r := accept(t, q)
		synctest.Wait()
		if r.Status() != records.Retrying {
			t.Fatalf("status %s", r.Status())
		}
		start := time.Now()
		if _, err := q.RetryNow(r.ID()); err != nil {
			t.Fatal(err)
		}
		<-r.Done()
		if r.Status() != records.Succeeded || r.AttemptCount() != 2 || time.Since(start) > time.Second {
			t.Errorf("after retry now: %s, %d attempts, %v", r.Status(), r.AttemptCount(), time.Since(start))
		}
		if _, err := q.RetryNow(r.ID()); !isConflict(err) {
			t.Errorf("retry now of a finished run: %v", err)
		}
	})
}

func isConflict(err error) bool {
	var c interface{ Conflict() bool }
	return errors.As(err, &c) && c.Conflict()
}
