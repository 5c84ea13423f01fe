package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The pool tests run inside synctest bubbles: time is fake, so the init
// error TTL and WarmWait's limit are checked exactly, and synctest.Wait
// replaces every "wait until the goroutines have got there". Each test ends
// with every worker stopped and every goroutine gone, or the bubble panics.

// fakeStarter starts fakeWorkers. Its behaviour is scripted per test.
type fakeStarter struct {
	mu      sync.Mutex
	started []*fakeWorker
	// errs are returned by the next Starts, one each, before any worker is
	// started.
	errs []error
	// gate, when set, makes Start wait for a value (or its closing).
	gate chan struct{}
	// failNext makes the next invocations (on any worker) fail with these
	// errors, one each.
	failNext []error
	// holds makes invocations with these ids wait until the channel is
	// closed.
	holds map[string]chan struct{}
	// ran records invocation ids in the order workers began them.
	ran []string
	// onDone, when set, runs (once) at the next call of a worker's Done.
	onDone func(*fakeWorker)
}

func newFakeStarter() *fakeStarter {
	return &fakeStarter{holds: map[string]chan struct{}{}}
}

func (s *fakeStarter) Start(ctx context.Context) (Worker, error) {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return nil, err
		}
	}
	w := &fakeWorker{s: s, pid: 1000 + len(s.started), done: make(chan struct{})}
	s.started = append(s.started, w)
	return w, nil
}

// hold makes the invocation id wait; the returned func lets it finish.
func (s *fakeStarter) hold(id string) func() {
	ch := make(chan struct{})
	s.mu.Lock()
	s.holds[id] = ch
	s.mu.Unlock()
	return func() { close(ch) }
}

func (s *fakeStarter) setErrs(errs ...error) {
	s.mu.Lock()
	s.errs = errs
	s.mu.Unlock()
}

func (s *fakeStarter) pendingErrs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.errs)
}

func (s *fakeStarter) failWith(errs ...error) {
	s.mu.Lock()
	s.failNext = append(s.failNext, errs...)
	s.mu.Unlock()
}

func (s *fakeStarter) workers() []*fakeWorker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.started)
}

func (s *fakeStarter) order() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ran)
}

type fakeWorker struct {
	s    *fakeStarter
	pid  int
	done chan struct{}

	mu      sync.Mutex
	stopped bool
	ran     []string
}

var _ Worker = (*fakeWorker)(nil)

func (w *fakeWorker) Invoke(ctx context.Context, req *Request) (*Result, error) {
	w.s.mu.Lock()
	w.s.ran = append(w.s.ran, req.ID)
	hold := w.s.holds[req.ID]
	w.s.mu.Unlock()
	w.mu.Lock()
	w.ran = append(w.ran, req.ID)
	w.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-w.done:
			// Stopped or killed mid-invocation.
			return nil, &ExitError{Exit: "was killed by signal SIGKILL"}
		case <-ctx.Done():
			w.exit()
			return nil, ctx.Err()
		}
	}
	// The outcome is decided once the invocation is let go, so a test can
	// script it while the invocation is held.
	w.s.mu.Lock()
	var fail error
	if len(w.s.failNext) > 0 {
		fail = w.s.failNext[0]
		w.s.failNext = w.s.failNext[1:]
	}
	w.s.mu.Unlock()
	if fail != nil {
		var nd *NotDeliveredError
		if !errors.As(fail, &nd) {
			// A worker that failed is gone, as a real one would be.
			w.exit()
		}
		return nil, fail
	}
	return &Result{Pid: w.pid, Response: req.Event}, nil
}

func (w *fakeWorker) Stop(ctx context.Context) error {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.exit()
	return nil
}

func (w *fakeWorker) exit() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.done:
	default:
		close(w.done)
	}
}

func (w *fakeWorker) Pid() int { return w.pid }

func (w *fakeWorker) Done() <-chan struct{} {
	w.s.mu.Lock()
	hook := w.s.onDone
	w.s.onDone = nil
	w.s.mu.Unlock()
	if hook != nil {
		hook(w)
	}
	return w.done
}

func (w *fakeWorker) isStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

func (w *fakeWorker) isDone() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func req(id string) *Request {
	return &Request{ID: id, Event: json.RawMessage(`{"id":"` + id + `"}`)}
}

// outcome is what one Pool.Invoke returned.
type outcome struct {
	id  string
	res *Result
	err error
}

// invokeAsync runs p.Invoke in a goroutine of the bubble and waits until it
// is blocked (running on a worker, queued or starting), so calls made one
// after the other reach the pool in that order.
func invokeAsync(ctx context.Context, p *Pool, id string, out chan<- outcome) {
	go func() {
		res, err := p.Invoke(ctx, req(id))
		out <- outcome{id, res, err}
	}()
	synctest.Wait()
}

func closePool(t *testing.T, p *Pool) {
	t.Helper()
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestPoolReusesIdleWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		p := NewPool(s, 4, nil)
		var pids []int
		for i := range 3 {
			res, err := p.Invoke(t.Context(), req(fmt.Sprint("r", i)))
			if err != nil {
				t.Fatalf("Invoke %d: %v", i, err)
			}
			if want := fmt.Sprintf(`{"id":"r%d"}`, i); string(res.Response) != want {
				t.Errorf("Invoke %d: response %s, want %s", i, res.Response, want)
			}
			pids = append(pids, res.Pid)
		}
		if n := len(s.workers()); n != 1 {
			t.Errorf("started %d workers for 3 sequential invocations, want 1", n)
		}
		if pids[0] != pids[1] || pids[1] != pids[2] {
			t.Errorf("pids %v, want the same warm worker each time", pids)
		}
		if got, want := p.Stats(), (PoolStats{Workers: 1, Idle: 1}); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
		if got := p.Pids(); !slices.Equal(got, []int{pids[0]}) {
			t.Errorf("Pids = %v, want [%d]", got, pids[0])
		}
		closePool(t, p)
		if w := s.workers()[0]; !w.isStopped() {
			t.Error("Close did not stop the idle worker")
		}
		if got := p.Pids(); len(got) != 0 {
			t.Errorf("Pids after Close = %v, want none", got)
		}
	})
}

func TestPoolQueuesFIFOBeyondMax(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		queued int
	}{
		{"max 1", 1, 5},
		{"max 2", 2, 6},
		{"max 3", 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeStarter()
				p := NewPool(s, tt.max, nil)
				out := make(chan outcome, tt.max+tt.queued)
				var releases []func()
				var busy []string
				for i := range tt.max {
					id := fmt.Sprint("busy", i)
					releases = append(releases, s.hold(id))
					busy = append(busy, id)
					invokeAsync(t.Context(), p, id, out)
				}
				var queued []string
				for i := range tt.queued {
					id := fmt.Sprint("q", i)
					queued = append(queued, id)
					invokeAsync(t.Context(), p, id, out)
				}
				if got, want := p.Stats(), (PoolStats{Workers: tt.max, Busy: tt.max, Queued: tt.queued}); got != want {
					t.Errorf("Stats with every worker busy = %+v, want %+v", got, want)
				}
				if n := len(s.workers()); n != tt.max {
					t.Errorf("started %d workers, want max %d", n, tt.max)
				}
				if got := len(p.Pids()); got != tt.max {
					t.Errorf("len(Pids) = %d, want %d", got, tt.max)
				}
				// Free one worker at a time: the queue drains in arrival order.
				for _, release := range releases {
					release()
					synctest.Wait()
				}
				done := map[string]outcome{}
				for range tt.max + tt.queued {
					o := <-out
					done[o.id] = o
				}
				for id, o := range done {
					if o.err != nil {
						t.Errorf("Invoke %s: %v", id, o.err)
					}
				}
				if got, want := len(done), tt.max+tt.queued; got != want {
					t.Errorf("%d invocations finished, want %d (none dropped)", got, want)
				}
				got := s.order()
				if !slices.Equal(got[:tt.max], busy) {
					t.Errorf("first invocations %v, want %v", got[:tt.max], busy)
				}
				if !slices.Equal(got[tt.max:], queued) {
					t.Errorf("queued invocations ran in order %v, want FIFO %v", got[tt.max:], queued)
				}
				if n := len(s.workers()); n != tt.max {
					t.Errorf("started %d workers in all, want %d", n, tt.max)
				}
				if got, want := p.Stats(), (PoolStats{Workers: tt.max, Idle: tt.max}); got != want {
					t.Errorf("Stats after the queue drained = %+v, want %+v", got, want)
				}
				closePool(t, p)
			})
		})
	}
}

func TestPoolFailedWorkerIsReplaced(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"exit", &ExitError{Exit: "exited with code 1"}},
		{"timeout", &TimeoutError{Limit: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeStarter()
				p := NewPool(s, 1, nil)
				out := make(chan outcome, 3)
				release := s.hold("a")
				invokeAsync(t.Context(), p, "a", out)
				invokeAsync(t.Context(), p, "b", out)
				invokeAsync(t.Context(), p, "c", out)
				s.failWith(tt.err)
				release()
				got := map[string]outcome{}
				for range 3 {
					o := <-out
					got[o.id] = o
				}
				if err := got["a"].err; err == nil || err.Error() != tt.err.Error() {
					t.Errorf("failed invocation: err %v, want %v", err, tt.err)
				}
				for _, id := range []string{"b", "c"} {
					if got[id].err != nil {
						t.Errorf("queued invocation %s: %v", id, got[id].err)
					}
				}
				if t.Failed() {
					t.FailNow()
				}
				ws := s.workers()
				if len(ws) != 2 {
					t.Fatalf("started %d workers, want 2 (the failed one replaced)", len(ws))
				}
				if got["b"].res.Pid != ws[1].pid || got["c"].res.Pid != ws[1].pid {
					t.Errorf("queued invocations ran on pids %d and %d, want the fresh worker %d", got["b"].res.Pid, got["c"].res.Pid, ws[1].pid)
				}
				synctest.Wait()
				if !ws[0].isDone() {
					t.Error("the failed worker was not stopped")
				}
				if pids := p.Pids(); !slices.Equal(pids, []int{ws[1].pid}) {
					t.Errorf("Pids = %v, want only the fresh worker %d", pids, ws[1].pid)
				}
				closePool(t, p)
			})
		})
	}
}

func TestPoolInitError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		ie := &InitError{Err: &FunctionError{Type: "SyntaxError", Message: "Unexpected token"}}
		s.errs = []error{ie}
		s.gate = make(chan struct{})
		p := NewPool(s, 1, nil)
		out := make(chan outcome, 3)
		// All three queue; a's arrival started the only worker.
		for _, id := range []string{"a", "b", "c"} {
			invokeAsync(t.Context(), p, id, out)
		}
		if got, want := p.Stats(), (PoolStats{Workers: 1, Queued: 3}); got != want {
			t.Errorf("Stats while starting = %+v, want %+v", got, want)
		}
		close(s.gate)
		for range 3 {
			o := <-out
			var got *InitError
			if !errors.As(o.err, &got) || got.Err.Message != "Unexpected token" {
				t.Errorf("Invoke %s: err %v, want the init error", o.id, o.err)
			}
		}
		if n := len(s.workers()); n != 0 {
			t.Errorf("%d workers started, want none", n)
		}

		// Within the TTL the error is answered from the cache.
		time.Sleep(initErrorTTL - time.Millisecond)
		s.setErrs(&InitError{Err: &FunctionError{Message: "second start"}})
		_, err := p.Invoke(t.Context(), req("cached"))
		var got *InitError
		if !errors.As(err, &got) || got.Err.Message != "Unexpected token" {
			t.Errorf("Invoke within the TTL: err %v, want the cached init error", err)
		}
		if s.pendingErrs() != 1 {
			t.Error("Invoke within the TTL started a worker")
		}

		// After it the start is tried again (and fails again, differently).
		time.Sleep(2 * time.Millisecond)
		_, err = p.Invoke(t.Context(), req("retry"))
		if !errors.As(err, &got) || got.Err.Message != "second start" {
			t.Errorf("Invoke after the TTL: err %v, want a fresh init error", err)
		}

		// Once the function loads, the pool works and forgets the error.
		time.Sleep(initErrorTTL + time.Millisecond)
		res, err := p.Invoke(t.Context(), req("fixed"))
		if err != nil {
			t.Fatalf("Invoke after the function was fixed: %v", err)
		}
		if string(res.Response) != `{"id":"fixed"}` {
			t.Errorf("response %s", res.Response)
		}
		closePool(t, p)
	})
}

func TestPoolStartErrorHandsSlotOn(t *testing.T) {
	// A start that fails for another reason (no such binary, a cancelled
	// start) is not cached: the next queued invocation tries its own start.
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		s.errs = []error{errors.New("fork: resource temporarily unavailable")}
		s.gate = make(chan struct{})
		p := NewPool(s, 1, nil)
		out := make(chan outcome, 2)
		invokeAsync(t.Context(), p, "a", out)
		invokeAsync(t.Context(), p, "b", out)
		close(s.gate)
		got := map[string]outcome{}
		for range 2 {
			o := <-out
			got[o.id] = o
		}
		if got["a"].err == nil || got["a"].err.Error() != "fork: resource temporarily unavailable" {
			t.Errorf("a: err %v, want the start error", got["a"].err)
		}
		if got["b"].err != nil {
			t.Errorf("b: %v, want it to run on a worker it started", got["b"].err)
		}
		closePool(t, p)
	})
}

func TestPoolNotDeliveredRetries(t *testing.T) {
	nd := &NotDeliveredError{Exit: "exited with code 2"}
	tests := []struct {
		name        string
		fails       []error
		wantErr     error
		wantStarted int
	}{
		{"once", []error{nd}, nil, 2},
		{"twice", []error{nd, nd}, nil, 3},
		{"gives up after three tries", []error{nd, nd, nd}, nd, 3},
		{"exit is not retried", []error{&ExitError{Exit: "exited with code 1"}}, &ExitError{Exit: "exited with code 1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeStarter()
				s.failWith(tt.fails...)
				p := NewPool(s, 1, nil)
				res, err := p.Invoke(t.Context(), req("x"))
				switch {
				case tt.wantErr == nil && err != nil:
					t.Fatalf("Invoke: %v", err)
				case tt.wantErr != nil && (err == nil || err.Error() != tt.wantErr.Error()):
					t.Fatalf("Invoke: err %v, want %v", err, tt.wantErr)
				}
				ws := s.workers()
				if len(ws) != tt.wantStarted {
					t.Errorf("started %d workers, want %d", len(ws), tt.wantStarted)
				}
				if err == nil && res.Pid != ws[len(ws)-1].pid {
					t.Errorf("ran on pid %d, want the last worker %d", res.Pid, ws[len(ws)-1].pid)
				}
				synctest.Wait()
				for _, w := range ws[:len(ws)-1] {
					if !w.isStopped() {
						t.Errorf("worker %d that failed to take the invocation was not stopped", w.pid)
					}
				}
				closePool(t, p)
			})
		})
	}
}

func TestPoolDeadIdleWorkerIsReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		p := NewPool(s, 1, nil)
		if _, err := p.Invoke(t.Context(), req("a")); err != nil {
			t.Fatal(err)
		}
		first := s.workers()[0]
		first.exit() // crashed while idle
		res, err := p.Invoke(t.Context(), req("b"))
		if err != nil {
			t.Fatalf("Invoke after the idle worker died: %v", err)
		}
		ws := s.workers()
		if len(ws) != 2 || res.Pid != ws[1].pid {
			t.Errorf("ran on pid %d with %d workers started, want a fresh worker", res.Pid, len(ws))
		}
		if got, want := p.Stats(), (PoolStats{Workers: 1, Idle: 1}); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
		closePool(t, p)
	})
}

func TestPoolCancelQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		p := NewPool(s, 1, nil)
		out := make(chan outcome, 4)
		release := s.hold("a")
		invokeAsync(t.Context(), p, "a", out)
		ctx, cancel := context.WithCancel(t.Context())
		invokeAsync(ctx, p, "b", out)
		invokeAsync(t.Context(), p, "c", out)
		invokeAsync(t.Context(), p, "d", out)
		if q := p.Stats().Queued; q != 3 {
			t.Fatalf("Queued = %d, want 3", q)
		}
		cancel()
		o := <-out
		if o.id != "b" || !errors.Is(o.err, context.Canceled) {
			t.Errorf("cancelled invocation: %s %v, want b context.Canceled", o.id, o.err)
		}
		if got, want := p.Stats(), (PoolStats{Workers: 1, Busy: 1, Queued: 2}); got != want {
			t.Errorf("Stats after the cancellation = %+v, want %+v", got, want)
		}
		release()
		for range 3 {
			if o := <-out; o.err != nil {
				t.Errorf("Invoke %s: %v", o.id, o.err)
			}
		}
		if got, want := s.order(), []string{"a", "c", "d"}; !slices.Equal(got, want) {
			t.Errorf("ran %v, want %v (the cancelled one never runs)", got, want)
		}
		closePool(t, p)
	})
}

func TestPoolPendingKeepsWorkerBusy(t *testing.T) {
	// A v2 invocation whose waitUntil work still runs has answered, but its
	// worker is not free until the work ends.
	synctest.Test(t, func(t *testing.T) {
		pending := make(chan struct{})
		s := &pendingStarter{fakeStarter: newFakeStarter(), pending: pending}
		p := NewPool(s, 1, nil)
		if _, err := p.Invoke(t.Context(), req("a")); err != nil {
			t.Fatal(err)
		}
		out := make(chan outcome, 1)
		invokeAsync(t.Context(), p, "b", out)
		if got, want := p.Stats(), (PoolStats{Workers: 1, Busy: 1, Queued: 1}); got != want {
			t.Errorf("Stats while waitUntil work runs = %+v, want %+v", got, want)
		}
		close(pending)
		if o := <-out; o.err != nil {
			t.Errorf("Invoke b: %v", o.err)
		}
		if n := len(s.workers()); n != 1 {
			t.Errorf("started %d workers, want 1", n)
		}
		closePool(t, p)
	})
}

// pendingStarter makes the first invocation report pending waitUntil work.
type pendingStarter struct {
	*fakeStarter
	pending chan struct{}
	once    sync.Once
}

func (s *pendingStarter) Start(ctx context.Context) (Worker, error) {
	w, err := s.fakeStarter.Start(ctx)
	if err != nil {
		return nil, err
	}
	return &pendingWorker{fakeWorker: w.(*fakeWorker), s: s}, nil
}

type pendingWorker struct {
	*fakeWorker
	s *pendingStarter
}

func (w *pendingWorker) Invoke(ctx context.Context, req *Request) (*Result, error) {
	res, err := w.fakeWorker.Invoke(ctx, req)
	if err == nil {
		w.s.once.Do(func() { res.pending = w.s.pending })
	}
	return res, err
}

func TestPoolClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		p := NewPool(s, 2, nil)
		out := make(chan outcome, 4)
		ra, rb := s.hold("a"), s.hold("b")
		invokeAsync(t.Context(), p, "a", out)
		invokeAsync(t.Context(), p, "b", out)
		invokeAsync(t.Context(), p, "c", out)
		invokeAsync(t.Context(), p, "d", out)

		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		synctest.Wait()
		for range 2 {
			o := <-out
			if (o.id != "c" && o.id != "d") || !errors.Is(o.err, ErrPoolClosed) {
				t.Errorf("queued invocation at Close: %s %v, want c or d with ErrPoolClosed", o.id, o.err)
			}
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v while two workers were busy", err)
		default:
		}
		if _, err := p.Invoke(t.Context(), req("late")); !errors.Is(err, ErrPoolClosed) {
			t.Errorf("Invoke after Close: %v, want ErrPoolClosed", err)
		}
		ws := s.workers()
		for _, w := range ws {
			if w.isStopped() {
				t.Errorf("busy worker %d was stopped before its invocation ended", w.pid)
			}
		}
		// Busy workers finish their invocation, then stop.
		ra()
		synctest.Wait()
		stopped := 0
		for _, w := range ws {
			if w.isStopped() {
				stopped++
			}
		}
		if stopped != 1 {
			t.Errorf("%d workers stopped after one was released, want 1", stopped)
		}
		rb()
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
		for range 2 {
			if o := <-out; o.err != nil {
				t.Errorf("in-flight invocation %s at Close: %v, want it to finish", o.id, o.err)
			}
		}
		for _, w := range ws {
			if !w.isStopped() {
				t.Errorf("worker %d not stopped after Close", w.pid)
			}
		}
		if got := p.Stats(); got != (PoolStats{}) {
			t.Errorf("Stats after Close = %+v, want zero", got)
		}
		// Closing twice is harmless.
		closePool(t, p)
	})
}

func TestPoolCloseDeadlineKillsBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		p := NewPool(s, 1, nil)
		out := make(chan outcome, 1)
		release := s.hold("a")
		defer release()
		invokeAsync(t.Context(), p, "a", out)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := p.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close: %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Close took %v, want the 5s deadline", d)
		}
		if w := s.workers()[0]; !w.isStopped() {
			t.Error("Close did not kill the busy worker at its deadline")
		}
		if o := <-out; o.err == nil {
			t.Error("the killed invocation succeeded")
		}
	})
}

func TestPoolCloseCancelsStartingWorker(t *testing.T) {
	// A worker still starting when Close is called is a worker of the pool
	// (Stats counts it): Close cancels its start, so it can neither hold
	// Close up nor come up later and outlive the pool.
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		s.gate = make(chan struct{})
		p := NewPool(s, 1, nil)
		out := make(chan outcome, 1)
		invokeAsync(t.Context(), p, "a", out)
		if got := p.Stats().Workers; got != 1 {
			t.Fatalf("Stats.Workers while starting = %d, want 1", got)
		}
		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		// Close cancels the start (the gate is never opened): a worker
		// that never gets ready must not hold Close up.
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
		if o := <-out; !errors.Is(o.err, ErrPoolClosed) {
			t.Errorf("Invoke that was starting at Close: %v, want ErrPoolClosed", o.err)
		}
		if ws := s.workers(); len(ws) != 0 {
			t.Errorf("started %d workers after Close, want 0", len(ws))
		}
		if got := p.Stats().Workers; got != 0 {
			t.Errorf("Stats.Workers after Close = %d, want 0", got)
		}
		synctest.Wait()
	})
}

func TestPoolWarm(t *testing.T) {
	tests := []struct {
		name     string
		max, n   int
		wantIdle int
	}{
		{"below max", 3, 2, 2},
		{"capped at max", 2, 5, 2},
		{"zero", 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeStarter()
				p := NewPool(s, tt.max, nil)
				p.Warm(t.Context(), tt.n)
				synctest.Wait()
				if got, want := p.Stats(), (PoolStats{Workers: tt.wantIdle, Idle: tt.wantIdle}); got != want {
					t.Errorf("Stats after Warm(%d) = %+v, want %+v", tt.n, got, want)
				}
				if tt.wantIdle > 0 {
					if _, err := p.Invoke(t.Context(), req("a")); err != nil {
						t.Fatal(err)
					}
					if n := len(s.workers()); n != tt.wantIdle {
						t.Errorf("Invoke after Warm started a worker: %d started, want %d", n, tt.wantIdle)
					}
				}
				closePool(t, p)
				for _, w := range s.workers() {
					if !w.isStopped() {
						t.Errorf("warm worker %d not stopped by Close", w.pid)
					}
				}
			})
		})
	}
}

func TestPoolWarmAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		p := NewPool(s, 2, nil)
		closePool(t, p)
		p.Warm(t.Context(), 2)
		p.WarmWait(t.Context(), time.Second)
		synctest.Wait()
		if n := len(s.workers()); n != 0 {
			t.Errorf("Warm on a closed pool started %d workers", n)
		}
	})
}

func TestPoolWarmWait(t *testing.T) {
	tests := []struct {
		name      string
		startTime time.Duration // how long Start takes
		limit     time.Duration
		wantWait  time.Duration
		wantIdle  int // right after WarmWait returns
	}{
		{"ready before the limit", 200 * time.Millisecond, time.Second, 200 * time.Millisecond, 1},
		{"limit passes first", 3 * time.Second, time.Second, time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeStarter()
				s.gate = make(chan struct{})
				go func() {
					time.Sleep(tt.startTime)
					close(s.gate)
				}()
				p := NewPool(s, 2, nil)
				start := time.Now()
				p.WarmWait(t.Context(), tt.limit)
				if d := time.Since(start); d != tt.wantWait {
					t.Errorf("WarmWait returned after %v, want %v", d, tt.wantWait)
				}
				if got := p.Stats().Idle; got != tt.wantIdle {
					t.Errorf("Idle right after WarmWait = %d, want %d", got, tt.wantIdle)
				}
				// Either way the worker comes up and is kept.
				time.Sleep(tt.startTime)
				synctest.Wait()
				if got, want := p.Stats(), (PoolStats{Workers: 1, Idle: 1}); got != want {
					t.Errorf("Stats once started = %+v, want %+v", got, want)
				}
				closePool(t, p)
			})
		})
	}
}

// TestPoolWarmAhead: the worker starts at the call, before anyone waits,
// and the wait returns when it is ready (or at once when it already is).
func TestPoolWarmAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStarter()
		s.gate = make(chan struct{})
		p := NewPool(s, 2, nil)
		wait := p.WarmAhead()
		synctest.Wait()
		if got := p.Stats(); got.Workers != 1 || got.Idle != 0 {
			t.Fatalf("Stats right after WarmAhead = %+v, want one worker starting", got)
		}
		time.Sleep(300 * time.Millisecond)
		close(s.gate)
		start := time.Now()
		wait(t.Context(), time.Second)
		if d := time.Since(start); d != 0 {
			t.Errorf("wait took %v after the start was done, want 0", d)
		}
		if got, want := p.Stats(), (PoolStats{Workers: 1, Idle: 1}); got != want {
			t.Errorf("Stats after wait = %+v, want %+v", got, want)
		}
		closePool(t, p)
	})
}

func TestPoolConcurrentStress(t *testing.T) {
	// Many concurrent invocations with failures mixed in: none is lost and
	// the pool never runs more than max workers at once.
	synctest.Test(t, func(t *testing.T) {
		const max, n = 3, 60
		s := newFakeStarter()
		for i := range n / 10 {
			s.failWith(nil, nil, &NotDeliveredError{Exit: "exited"}, nil, nil, nil, &ExitError{Exit: fmt.Sprint("exited with code ", i)}, nil, nil, nil)
		}
		p := NewPool(s, max, nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, failed := 0, 0
		for i := range n {
			wg.Go(func() {
				_, err := p.Invoke(t.Context(), req(fmt.Sprint("r", i)))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
				} else {
					ok++
				}
				if st := p.Stats(); st.Workers > max {
					t.Errorf("Stats.Workers = %d > max %d", st.Workers, max)
				}
			})
		}
		wg.Wait()
		if ok+failed != n {
			t.Errorf("%d invocations returned, want %d", ok+failed, n)
		}
		if failed != n/10 {
			t.Errorf("%d invocations failed, want %d (the exit errors only)", failed, n/10)
		}
		closePool(t, p)
	})
}

func TestPoolCancelRacingGrant(t *testing.T) {
	// A queued invocation cancelled just as a worker or a free slot is
	// handed to it must pass it on: the next one in the queue runs and
	// nothing is lost. The cancellation is made from inside release (the
	// pool asks the worker's Done under its lock just before it hands the
	// worker, or its slot when the worker has died, over), so the queued
	// invocation wakes for its context while the grant is on its way.
	tests := []struct {
		name        string
		dies        bool // the worker dies as it is released: its slot is handed over
		wantStarted int
	}{
		{"worker handed over", false, 1},
		{"slot handed over", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeStarter()
				p := NewPool(s, 1, nil)
				out := make(chan outcome, 3)
				release := s.hold("a")
				invokeAsync(t.Context(), p, "a", out)
				ctx, cancel := context.WithCancel(t.Context())
				invokeAsync(ctx, p, "b", out)
				invokeAsync(t.Context(), p, "c", out)
				s.mu.Lock()
				s.onDone = func(w *fakeWorker) {
					if tt.dies {
						w.exit()
					}
					cancel()
				}
				s.mu.Unlock()
				release()
				got := map[string]outcome{}
				for range 3 {
					o := <-out
					got[o.id] = o
				}
				if err := got["a"].err; err != nil {
					t.Errorf("a: %v", err)
				}
				if err := got["b"].err; !errors.Is(err, context.Canceled) {
					t.Errorf("b: %v, want context.Canceled", err)
				}
				if err := got["c"].err; err != nil {
					t.Errorf("c: %v, want it to run with what b passed on", err)
				}
				if got, want := s.order(), []string{"a", "c"}; !slices.Equal(got, want) {
					t.Errorf("ran %v, want %v", got, want)
				}
				if n := len(s.workers()); n != tt.wantStarted {
					t.Errorf("started %d workers, want %d", n, tt.wantStarted)
				}
				if st := p.Stats(); st != (PoolStats{Workers: 1, Idle: 1}) {
					t.Errorf("Stats = %+v, want one idle worker", st)
				}
				closePool(t, p)
			})
		})
	}
}

// neverReadyStarter starts a fake worker that never gets ready: Start
// blocks until its context ends, then kills the worker, as the real
// starters kill a process still loading.
type neverReadyStarter struct {
	started chan *fakeWorker
}

func (s *neverReadyStarter) Start(ctx context.Context) (Worker, error) {
	w := &fakeWorker{s: newFakeStarter(), pid: 4242, done: make(chan struct{})}
	s.started <- w
	<-ctx.Done()
	w.exit()
	return nil, ctx.Err()
}

func TestPoolStopCancelsStartThatNeverFinishes(t *testing.T) {
	for _, stop := range []string{"Close", "Kill"} {
		t.Run(stop, func(t *testing.T) {
			s := &neverReadyStarter{started: make(chan *fakeWorker, 1)}
			p := NewPool(s, 1, nil)
			invoked := make(chan error, 1)
			go func() {
				_, err := p.Invoke(t.Context(), &Request{ID: "a"})
				invoked <- err
			}()
			w := <-s.started

			returned := make(chan struct{})
			go func() {
				if stop == "Close" {
					// A generous grace: Close must not need it.
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					p.Close(ctx)
				} else {
					p.Kill()
					p.Close(context.Background())
				}
				close(returned)
			}()
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s did not return while a start was still under way", stop)
			}
			if !w.isDone() {
				t.Errorf("the starting worker was not killed")
			}
			select {
			case err := <-invoked:
				if !errors.Is(err, ErrPoolClosed) {
					t.Errorf("waiting invocation got %v, want ErrPoolClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the invocation waiting on the start did not return")
			}
		})
	}
}

// pacedStarter is a fakeStarter whose starts take 100 ms, counting how
// many run at once.
type pacedStarter struct {
	*fakeStarter
	mu         sync.Mutex
	now, peak  int
	startTimes []time.Time
}

func (s *pacedStarter) Start(ctx context.Context) (Worker, error) {
	s.mu.Lock()
	s.now++
	s.peak = max(s.peak, s.now)
	s.startTimes = append(s.startTimes, time.Now())
	s.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	s.mu.Lock()
	s.now--
	s.mu.Unlock()
	return s.fakeStarter.Start(ctx)
}

// TestPoolPacesStarts: 20 invocations that all stay busy need 20
// instances; they start maxStarting at a time, each start beginning the
// next, until every invocation has one.
func TestPoolPacesStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &pacedStarter{fakeStarter: newFakeStarter()}
		const n = 20
		p := NewPool(s, 64, nil)
		out := make(chan outcome, n)
		var releases []func()
		begin := time.Now()
		for i := range n {
			id := fmt.Sprint("busy", i)
			releases = append(releases, s.hold(id))
			invokeAsync(t.Context(), p, id, out)
		}
		synctest.Wait()
		if got := p.Stats(); got.Workers != maxStarting() || got.Queued != n {
			t.Errorf("Stats at first = %+v, want %d starting and %d queued", got, maxStarting(), n)
		}
		for len(s.workers()) < n {
			time.Sleep(10 * time.Millisecond)
			if time.Since(begin) > time.Minute {
				t.Fatalf("only %d of %d instances after a minute", len(s.workers()), n)
			}
		}
		s.mu.Lock()
		peak, times := s.peak, slices.Clone(s.startTimes)
		s.mu.Unlock()
		if peak != maxStarting() {
			t.Errorf("%d starts ran at once, want maxStarting() = %d", peak, maxStarting())
		}
		// Each start began as soon as one ended: start i in round i/cap.
		for i, at := range times {
			if got, want := at.Sub(begin), time.Duration(i/maxStarting())*100*time.Millisecond; got != want {
				t.Errorf("start %d began at +%v, want +%v", i, got, want)
			}
		}
		for _, r := range releases {
			r()
		}
		for range n {
			if o := <-out; o.err != nil {
				t.Errorf("Invoke %s: %v", o.id, o.err)
			}
		}
		closePool(t, p)
	})
}
