package runtime

import (
	"context"
	"errors"
	goruntime "runtime"
	"sync"
	"time"
)

// ErrPoolClosed is returned by a pool that was replaced (the function was
// rebuilt or removed) or stopped. Callers look the function up again.
var ErrPoolClosed = errors.New("worker pool closed")

// initErrorTTL is how long a failed start is remembered: requests that come
// in meanwhile get the same error instead of each spawning a worker that
// fails the same way. A rebuild makes a new pool, so a fix is seen at once.
const initErrorTTL = time.Second

// PoolStats is a snapshot of a pool.
type PoolStats struct {
	Workers int `json:"instances"` // started or starting
	Idle    int `json:"idle"`
	Busy    int `json:"busy"`
	Queued  int `json:"queued"`
}

// Pool runs a function's invocations on up to max warm workers, one
// invocation per worker at a time, and queues the rest in arrival order.
// Nothing queued is dropped: a queued invocation waits until a worker is
// free, its context ends, or the pool closes.
//
// Starts are not tied to the invocation that caused them: every
// invocation waits in the queue, a start is begun for each one that no
// start already covers, and each worker that becomes free (started, or
// done with an invocation) goes to the first in the queue. When starting a
// worker takes longer than running an invocation, a burst is served by
// the first workers up rather than waiting for one start each.
type Pool struct {
	starter Starter
	max     int
	// maxStarting bounds the starts under way at once (maxStarting).
	maxStarting int
	// budget bounds the instances of all pools together and stops idle
	// ones; nil for none. Its methods are called with mu held (the budget
	// never calls a pool with its own lock held).
	budget *Budget

	mu       sync.Mutex
	idle     []Worker
	workers  map[Worker]struct{}
	starting int
	waiters  []chan grant
	closed   bool
	initErr  error
	initAt   time.Time
	// all counts workers started or starting, so Close can wait for them.
	all sync.WaitGroup

	// life bounds every start: Close and Kill cancel it, so a worker that
	// never gets ready cannot keep the pool (and bgfn) from stopping.
	life     context.Context
	stopLife context.CancelFunc
}

// grant is what a queued invocation receives: a worker, or an error.
type grant struct {
	w   Worker
	err error
}

// NewPool returns a pool that starts workers with s, at most max at once,
// within budget b (nil for none).
func NewPool(s Starter, max int, b *Budget) *Pool {
	if max < 1 {
		max = 1
	}
	p := &Pool{starter: s, max: max, maxStarting: maxStarting(), budget: b, workers: make(map[Worker]struct{})}
	p.life, p.stopLife = context.WithCancel(context.Background())
	return p
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{
		Workers: len(p.workers) + p.starting,
		Idle:    len(p.idle),
		Busy:    len(p.workers) - len(p.idle),
		Queued:  len(p.waiters),
	}
}

// Pids lists the process ids of the pool's workers.
func (p *Pool) Pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, 0, len(p.workers))
	for w := range p.workers {
		pids = append(pids, w.Pid())
	}
	return pids
}

// Warm starts up to n workers in the background so the first requests do
// not pay for a cold start. Failures are left for the first request to
// report.
func (p *Pool) Warm(ctx context.Context, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		if p.closed || len(p.workers)+p.starting >= p.max || len(p.waiters) > 0 {
			return
		}
		p.startLocked(nil)
	}
}

// WarmWait starts one worker and waits until it is ready or d passes, so a
// reload can switch traffic to a pool that already has a warm worker.
func (p *Pool) WarmWait(ctx context.Context, d time.Duration) {
	p.WarmAhead()(ctx, d)
}

// WarmAhead starts one worker, as WarmWait does, and returns at once with
// a function that waits until it is ready or d passes: a reload starts the
// new instance while it checks that the files it built from have settled.
func (p *Pool) WarmAhead() (wait func(ctx context.Context, d time.Duration)) {
	p.mu.Lock()
	if p.closed || len(p.workers)+p.starting >= p.max {
		p.mu.Unlock()
		return func(context.Context, time.Duration) {}
	}
	done := make(chan struct{})
	p.startLocked(done)
	p.mu.Unlock()
	return func(ctx context.Context, d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// Invoke runs req on a worker of the pool.
func (p *Pool) Invoke(ctx context.Context, req *Request) (*Result, error) {
	var w Worker
	var res *Result
	var err error
	for try := 0; ; try++ {
		w, err = p.acquire(ctx)
		if err != nil {
			return nil, err
		}
		if req.Started != nil {
			req.Started(w.Pid())
		}
		res, err = w.Invoke(ctx, req)
		if err == nil {
			break
		}
		p.discard(w)
		// A worker that ended while idle (say, after a Go panic) never ran
		// the invocation: run it on another one.
		var nd *NotDeliveredError
		if !errors.As(err, &nd) || try >= 2 {
			return nil, err
		}
	}
	if res.pending != nil {
		go func() {
			<-res.pending
			p.release(w)
		}()
		return res, nil
	}
	p.release(w)
	return res, nil
}

func (p *Pool) acquire(ctx context.Context) (Worker, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	for len(p.idle) > 0 {
		w := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		select {
		case <-w.Done():
			p.budget.forget(w)
			p.forget(w)
			continue
		default:
		}
		if !p.budget.idleRemove(w) {
			// The budget is stopping it (idle too long, or room needed
			// for another function's instance): let it go.
			delete(p.workers, w)
			go w.Stop(expired())
			continue
		}
		p.mu.Unlock()
		return w, nil
	}
	if p.initErr != nil && time.Since(p.initAt) < initErrorTTL {
		err := p.initErr
		p.mu.Unlock()
		return nil, err
	}
	ch := make(chan grant, 1)
	p.waiters = append(p.waiters, ch)
	p.startForWaitersLocked()
	p.mu.Unlock()

	select {
	case g := <-ch:
		return g.w, g.err
	case <-ctx.Done():
		p.mu.Lock()
		for i, c := range p.waiters {
			if c == ch {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				p.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		p.mu.Unlock()
		// A grant raced with the cancellation: pass the worker on.
		if g := <-ch; g.w != nil {
			p.release(g.w)
		}
		return nil, ctx.Err()
	}
}

// startForWaitersLocked begins a start for every queued invocation that the
// starts under way do not cover, within the caps: the pool's instances, and
// the starts under way at once. A start that ends begins the next one.
func (p *Pool) startForWaitersLocked() {
	for !p.closed && len(p.waiters) > p.starting && len(p.workers)+p.starting < p.max && p.starting < p.maxStarting {
		p.startLocked(nil)
	}
}

// maxStarting is how many instances of one function start at once: as
// many as the machine has cores, and at least 2. A start is CPU-bound
// (a V8 isolate, the function's module, its init code), so 50 of them at
// once on 2 cores each take 25 times as long: a function with a large
// bundle then ran out of its init timeout in every one of them and
// answered nothing. Paced, each start gets the CPU it needs, and a
// request waiting for one is served by whichever instance frees first.
func maxStarting() int { return max(2, goruntime.NumCPU()) }

// startLocked begins starting a worker in the background; once it is up
// it goes to the first queued invocation, or idle. done, when set, is
// closed when the start has ended.
func (p *Pool) startLocked(done chan struct{}) {
	p.starting++
	p.all.Add(1)
	go func() {
		if done != nil {
			defer close(done)
		}
		w, err := p.start()
		if err != nil {
			p.startFailed(err)
			return
		}
		p.release(w)
		p.mu.Lock()
		p.startForWaitersLocked()
		p.mu.Unlock()
	}()
}

// start starts a worker for a slot already counted in p.starting and in
// p.all (so Close waits for a worker that is still starting). The start
// outlives the invocations waiting for it (the worker is reused), so it is
// bounded by the pool's life; a start cut short by Close or Kill reports
// ErrPoolClosed.
func (p *Pool) start() (Worker, error) {
	if err := p.budget.acquire(p.life); err != nil {
		p.mu.Lock()
		p.starting--
		p.all.Done()
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	w, err := p.starter.Start(p.life)
	if err != nil {
		p.budget.release()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting--
	switch {
	case err != nil && p.life.Err() != nil:
		p.all.Done()
		return nil, ErrPoolClosed
	case err != nil:
		p.all.Done()
		return nil, err
	case p.closed:
		go func() {
			w.Stop(expired())
			p.all.Done()
			p.budget.release()
		}()
		return nil, ErrPoolClosed
	}
	p.initErr = nil
	p.workers[w] = struct{}{}
	go func() {
		<-w.Done()
		p.all.Done()
		p.budget.release()
	}()
	return w, nil
}

// startFailed hands a failed start's error on. A function that cannot load
// fails every queued invocation at once (they would fail the same way);
// another failure goes to the first queued invocation, and the rest get
// starts of their own.
func (p *Pool) startFailed(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if errors.Is(err, ErrPoolClosed) {
		return // Close has answered the queue already.
	}
	var ie *InitError
	if errors.As(err, &ie) {
		p.initErr, p.initAt = err, time.Now()
		for _, c := range p.waiters {
			c <- grant{err: err}
		}
		p.waiters = nil
		return
	}
	if len(p.waiters) > 0 {
		c := p.waiters[0]
		p.waiters = p.waiters[1:]
		c <- grant{err: err}
	}
	p.startForWaitersLocked()
}

// release returns a healthy worker: to the first queued invocation, or to
// the idle list.
func (p *Pool) release(w Worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-w.Done():
		p.forget(w)
		p.startForWaitersLocked()
		return
	default:
	}
	if p.closed {
		delete(p.workers, w)
		go w.Stop(context.Background())
		return
	}
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- grant{w: w}
		return
	}
	if !p.budget.idleAdd(p, w) {
		// Another function waits for room: this idle instance makes it.
		delete(p.workers, w)
		go w.Stop(expired())
		return
	}
	p.idle = append(p.idle, w)
}

// evict stops w if it is still idle: the budget's call, for an instance
// idle too long or one whose slot another pool needs.
func (p *Pool) evict(w Worker) {
	p.mu.Lock()
	found := false
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			delete(p.workers, w)
			found = true
			break
		}
	}
	p.mu.Unlock()
	if found {
		w.Stop(expired())
	}
}

func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// discard drops a worker that failed; a queued invocation gets a fresh
// start in its place.
func (p *Pool) discard(w Worker) {
	go w.Stop(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forget(w)
	p.startForWaitersLocked()
}

func (p *Pool) forget(w Worker) {
	delete(p.workers, w)
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
}

// Close stops taking invocations: queued ones get ErrPoolClosed, starts
// still under way are cancelled (their workers killed), idle workers stop
// at once, busy ones when their invocation ends. It returns when every
// worker has exited or ctx ends (then the rest are killed).
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.stopLife()
		for _, c := range p.waiters {
			c <- grant{err: ErrPoolClosed}
		}
		p.waiters = nil
		for _, w := range p.idle {
			delete(p.workers, w)
			p.budget.forget(w)
			go w.Stop(ctx)
		}
		p.idle = nil
	}
	p.mu.Unlock()

	done := make(chan struct{})
	go func() { p.all.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	p.Kill()
	<-done
	return ctx.Err()
}

// Kill stops every worker of the pool now, busy, idle or starting.
func (p *Pool) Kill() {
	p.stopLife()
	p.mu.Lock()
	ws := make([]Worker, 0, len(p.workers))
	for w := range p.workers {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.Stop(expired())
	}
}
