package runtime

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestBudgetCapsAllPools: two pools share a cap of 2 instances; six
// invocations all run, never more than two instances at once, and none is
// dropped.
func TestBudgetCapsAllPools(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{Max: 2}
		sa, sb := newFakeStarter(), newFakeStarter()
		pa, pb := NewPool(sa, 10, b), NewPool(sb, 10, b)
		release := map[string]func(){}
		for _, id := range []string{"a1", "a2", "a3", "b1", "b2", "b3"} {
			s := sa
			if id[0] == 'b' {
				s = sb
			}
			release[id] = s.hold(id)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for _, id := range []string{"a1", "a2", "a3", "b1", "b2", "b3"} {
			p := pa
			if id[0] == 'b' {
				p = pb
			}
			wg.Go(func() {
				_, err := p.Invoke(t.Context(), &Request{ID: id})
				errs <- err
			})
		}
		synctest.Wait()
		if used, _, waiting := b.Stats(); used != 2 || waiting == 0 {
			t.Fatalf("budget used %d, %d waiting; want 2 used and starts waiting", used, waiting)
		}
		if n := len(sa.workers()) + len(sb.workers()); n != 2 {
			t.Fatalf("%d instances started, want 2", n)
		}
		// Let everything finish, one at a time: freed slots go to waiters.
		for _, id := range []string{"a1", "a2", "a3", "b1", "b2", "b3"} {
			release[id]()
			synctest.Wait()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("invocation failed: %v", err)
			}
		}
		if got := len(sa.order()) + len(sb.order()); got != 6 {
			t.Errorf("%d invocations ran, want 6", got)
		}
		pa.Close(context.Background())
		pb.Close(context.Background())
		synctest.Wait()
		if used, idle, _ := b.Stats(); used != 0 || idle != 0 {
			t.Errorf("after Close: used %d, idle %d", used, idle)
		}
	})
}

// TestBudgetEvictsIdle: a full budget stops the longest-idle instance of
// another function to start the one asked for.
func TestBudgetEvictsIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{Max: 1}
		sa, sb := newFakeStarter(), newFakeStarter()
		pa, pb := NewPool(sa, 4, b), NewPool(sb, 4, b)
		defer pa.Close(context.Background())
		defer pb.Close(context.Background())
		if _, err := pa.Invoke(t.Context(), &Request{ID: "a"}); err != nil {
			t.Fatal(err)
		}
		if _, err := pb.Invoke(t.Context(), &Request{ID: "b"}); err != nil {
			t.Fatal(err)
		}
		if w := sa.workers()[0]; !w.isDone() {
			t.Error("a's idle instance was not stopped to make room for b")
		}
		if used, _, _ := b.Stats(); used != 1 {
			t.Errorf("used %d, want 1", used)
		}
	})
}

// TestBudgetIdleTimeout: instances idle past the timeout are stopped; the
// next invocation starts a new one.
func TestBudgetIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{IdleTimeout: time.Minute}
		b.Start()
		defer b.Close()
		s := newFakeStarter()
		p := NewPool(s, 4, b)
		defer p.Close(context.Background())
		p.Invoke(t.Context(), &Request{ID: "1"})
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if s.workers()[0].isDone() {
			t.Fatal("stopped before the idle timeout")
		}
		p.Invoke(t.Context(), &Request{ID: "2"}) // used again: idle from now
		time.Sleep(50 * time.Second)
		synctest.Wait()
		if s.workers()[0].isDone() {
			t.Fatal("an instance used 50 s ago was stopped")
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if !s.workers()[0].isDone() {
			t.Fatal("not stopped after the idle timeout")
		}
		if st := p.Stats(); st.Workers != 0 {
			t.Errorf("pool still has %d workers", st.Workers)
		}
		if _, err := p.Invoke(t.Context(), &Request{ID: "3"}); err != nil || len(s.workers()) != 2 {
			t.Errorf("after the timeout: %v, %d instances started", err, len(s.workers()))
		}
	})
}
