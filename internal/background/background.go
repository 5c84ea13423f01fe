package background

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/journal"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// NetlifyRetries is how many times Netlify retries a failed background
// invocation.
const NetlifyRetries = 2

// Retries is the retry count for a run with --no-retries set or not.
func Retries(off bool) int {
	if off {
		return 0
	}
	return NetlifyRetries
}

// Invoker runs one invocation of a function.
type Invoker interface {
	Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error)
}

// Options configure a Queue.
type Options struct {
	// Lookup returns the function's current invoker at the time of each
	// attempt (a reload may have replaced it); false when it is gone.
	Lookup func(name string) (Invoker, bool)
	// Records keeps a record of every invocation; required.
	Records *records.Store
	// Printer prints the run lines; required.
	Printer *logs.Printer
	// Quiet leaves out the accept line (a standalone invoke).
	Quiet bool
	// Timeout bounds each attempt (Netlify: 15 min).
	Timeout time.Duration
	// Retries is how many times a failed invocation is retried (Netlify: 2).
	Retries int
	// RetryDelays are the waits before each retry (Netlify: 1m, then 2m);
	// the last one repeats.
	RetryDelays []time.Duration
	// MaxRunning caps the invocations of one function that run at once;
	// the rest wait in arrival order.
	MaxRunning int
	// Journal, when set, makes runs durable: an invocation is journaled
	// before Accept returns (so before its 202), each attempt before it
	// starts, and its end. Nil journals nothing.
	Journal *journal.Journal
}

// Queue runs background invocations.
type Queue struct {
	opts Options
	// active counts running attempts.
	active sync.WaitGroup

	// journalWarned is set once a journal write failure has been printed.
	journalWarned sync.Once

	mu       sync.Mutex
	draining bool
	queues   map[string]*fnQueue
	// base is the context runs live in: it outlives requests and is
	// cancelled only by Close.
	base   context.Context
	cancel context.CancelFunc
}

// New returns a queue.
func New(opts Options) *Queue {
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Minute
	}
	if len(opts.RetryDelays) == 0 {
		opts.RetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = 4
	}
	q := &Queue{opts: opts, queues: make(map[string]*fnQueue)}
	q.base, q.cancel = context.WithCancel(context.Background())
	return q
}

// Invocation is an accepted background call.
type Invocation struct {
	// Function names the function.
	Function string
	// Kind is the function's kind, for the record.
	Kind string
	// Method and URI are what the request asked, for the accept line.
	Method, URI string
	// Request is what the record keeps of the request.
	Request records.Request
	// Body is the whole body, kept for retries and replays.
	Body []byte
	// ReplayOf names the invocation this one repeats.
	ReplayOf string
	// Req is the invocation for the worker (its ID is the record's).
	Req *runtime.Request
}

// Accept journals inv, records it as queued and runs it as soon as its
// function has a free slot. It returns the record, or an error when the
// journal could not keep it: then nothing was accepted.
func (q *Queue) Accept(inv Invocation) (*records.Record, error) {
	inv.Req.Timeout = q.opts.Timeout
	inv.Req.Background = true
	run := &journal.Run{
		ID: inv.Req.ID, Function: inv.Function, Kind: inv.Kind, MaxAttempts: q.opts.Retries + 1,
		CreatedAt: time.Now(), Request: inv.Request, Event: inv.Req.Event,
		ClientContext: inv.Req.ClientContext, Params: inv.Req.Params, ReplayOf: inv.ReplayOf,
	}
	if err := q.opts.Journal.Accept(run); err != nil {
		return nil, err
	}
	rec := q.opts.Records.New(records.Spec{
		ID: inv.Req.ID, Function: inv.Function, Kind: inv.Kind, MaxAttempts: run.MaxAttempts,
		Request: inv.Request, Body: inv.Body, ReplayOf: inv.ReplayOf, CreatedAt: run.CreatedAt,
		OnFinish: q.journalFinal(inv.Req.ID),
	})
	if !q.opts.Quiet {
		q.opts.Printer.Queued(inv.Function, records.ShortID(inv.Req.ID), inv.Method, inv.URI)
	}
	q.enqueue(inv.Function, &item{rec: rec, req: inv.Req})
	return rec, nil
}

// journalFinal journals a record's final status, whoever gives it.
func (q *Queue) journalFinal(id string) func(records.Status, time.Time) {
	if q.opts.Journal == nil {
		return nil
	}
	return func(s records.Status, at time.Time) { q.opts.Journal.Final(id, s, at) }
}

// journalError prints the first journal write that failed after its run
// was accepted: the run goes on, but a kill now could lose track of it.
func (q *Queue) journalError(err error) {
	if err == nil || q.opts.Quiet {
		return
	}
	q.journalWarned.Do(func() {
		q.opts.Printer.Warning(fmt.Sprintf("%v: runs go on, but a crash now may leave them without a record of their attempts", err))
	})
}

// crashedAttempt is what an attempt that was running when bgfn stopped
// unexpectedly says: bgfn cannot know whether it finished.
var crashedAttempt = &records.Error{Type: "Interrupted", Message: "bgfn stopped unexpectedly during this attempt; it may have run to completion, and it runs again on resume (at-least-once)"}

// Recover records the runs the journal found unfinished at start-up (the
// bgfn before this one stopped without ending them) as interrupted, an
// attempt that was running included, and returns their records, oldest
// first. They stay resumable (Resume).
func (q *Queue) Recover(runs []journal.Run) []*records.Record {
	out := make([]*records.Record, 0, len(runs))
	now := time.Now()
	for _, run := range runs {
		for i := range run.Attempts {
			if a := &run.Attempts[i]; a.Status == records.Running {
				a.Status, a.EndedAt, a.Error = records.Interrupted, &now, crashedAttempt
				q.opts.Journal.End(run.ID, *a)
			}
		}
		// Its record shows the attempts it had; resuming it adds one for
		// the attempt interrupted.
		rec := q.restore(&run, run.MaxAttempts)
		rec.Finish(records.Interrupted)
		out = append(out, rec)
	}
	return out
}

// Resume runs the interrupted runs the journal holds again (all of them,
// or those of ids), from their next attempt, with their ids and the
// attempts they had; an attempt bgfn interrupted does not count against
// the retries. It returns their records, oldest first.
func (q *Queue) Resume(ids ...string) ([]*records.Record, error) {
	if q.opts.Journal == nil {
		return nil, fmt.Errorf("no journal: this bgfn keeps no background runs to resume")
	}
	if q.isDraining() {
		return nil, fmt.Errorf("bgfn is shutting down")
	}
	runs, err := q.opts.Journal.Resume(ids...)
	if err != nil {
		return nil, err
	}
	out := make([]*records.Record, 0, len(runs))
	for _, run := range runs {
		rec := q.restore(&run, run.EffectiveMax())
		if !q.opts.Quiet {
			q.opts.Printer.Resumed(run.Function, records.ShortID(run.ID), len(run.Attempts)+1, rec.MaxAttempts())
		}
		q.enqueue(run.Function, &item{rec: rec, req: &runtime.Request{
			ID: run.ID, Event: run.Event, ClientContext: run.ClientContext, Params: run.Params,
			Timeout: q.opts.Timeout, Background: true,
		}})
		out = append(out, rec)
	}
	return out, nil
}

// restore makes the record of a run read back from the journal.
func (q *Queue) restore(run *journal.Run, max int) *records.Record {
	return q.opts.Records.New(records.Spec{
		ID: run.ID, Function: run.Function, Kind: run.Kind, MaxAttempts: max,
		Request: run.Request, Body: run.Body(), ReplayOf: run.ReplayOf,
		CreatedAt: run.CreatedAt, Attempts: run.Attempts, OnFinish: q.journalFinal(run.ID),
	})
}

// Drain starts nothing more: queued invocations stay queued.
func (q *Queue) Drain() {
	q.mu.Lock()
	q.draining = true
	q.mu.Unlock()
}

// Wait waits until no attempt is running, or ctx ends.
func (q *Queue) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { q.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops what still runs (its attempts end as interrupted), stops
// the retry timers, waits for the attempts to end (at most until ctx
// ends) and records every invocation that has not ended (running, queued
// or waiting for a retry) as interrupted.
func (q *Queue) Close(ctx context.Context) {
	q.Drain()
	q.cancel()
	q.mu.Lock()
	for _, fq := range q.queues {
		fq.stopTimers()
	}
	q.mu.Unlock()
	q.Wait(ctx)
	for _, r := range q.opts.Records.Unfinished() {
		if r.Kind() == "background" {
			r.Finish(records.Interrupted)
		}
	}
}

// item is one accepted invocation.
type item struct {
	rec *records.Record
	req *runtime.Request
}

// fnQueue holds a function's invocations in arrival order and runs at most
// MaxRunning of them at once. Retries wait on timers, not runners. Memory
// grows only with what is queued.
type fnQueue struct {
	name    string
	mu      sync.Mutex
	items   []*item
	head    int
	running int
	timers  map[*time.Timer]struct{}
}

func (q *Queue) queue(name string) *fnQueue {
	q.mu.Lock()
	defer q.mu.Unlock()
	fq, ok := q.queues[name]
	if !ok {
		fq = &fnQueue{name: name, timers: make(map[*time.Timer]struct{})}
		q.queues[name] = fq
	}
	return fq
}

func (q *Queue) isDraining() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.draining
}

// enqueue adds it to its function's queue and starts a runner if one is
// free.
func (q *Queue) enqueue(name string, it *item) {
	fq := q.queue(name)
	fq.mu.Lock()
	fq.items = append(fq.items, it)
	start := fq.running < q.opts.MaxRunning && !q.isDraining()
	if start {
		fq.running++
	}
	fq.mu.Unlock()
	if start {
		go q.run(fq)
	}
}

func (fq *fnQueue) pop() *item {
	if fq.head == len(fq.items) {
		return nil
	}
	it := fq.items[fq.head]
	fq.items[fq.head] = nil
	fq.head++
	if fq.head == len(fq.items) {
		fq.items, fq.head = fq.items[:0], 0
	} else if fq.head > 1024 && fq.head*2 > len(fq.items) {
		// Compact so a long queue does not keep its consumed prefix.
		n := copy(fq.items, fq.items[fq.head:])
		clear(fq.items[n:])
		fq.items, fq.head = fq.items[:n], 0
	}
	return it
}

func (fq *fnQueue) stopTimers() {
	fq.mu.Lock()
	defer fq.mu.Unlock()
	for t := range fq.timers {
		t.Stop()
	}
	clear(fq.timers)
}

// run runs queued invocations until the queue is empty or bgfn is
// shutting down.
func (q *Queue) run(fq *fnQueue) {
	for {
		fq.mu.Lock()
		var it *item
		if !q.isDraining() {
			it = fq.pop()
		}
		if it == nil {
			fq.running--
			fq.mu.Unlock()
			return
		}
		q.active.Add(1)
		fq.mu.Unlock()
		q.attempt(fq, it)
		q.active.Done()
	}
}

// retryDelay is the wait before retry number n (1-based).
func (q *Queue) retryDelay(n int) time.Duration {
	d := q.opts.RetryDelays
	if n-1 < len(d) {
		return d[n-1]
	}
	return d[len(d)-1]
}

// attempt runs one attempt of an invocation and decides what comes next:
// done, a retry later, or the end.
func (q *Queue) attempt(fq *fnQueue, it *item) {
	p := q.opts.Printer
	rec, req := it.rec, it.req
	name := fq.name
	max := rec.MaxAttempts()
	n := rec.StartAttempt()
	// Durable before the function runs: if bgfn dies during the attempt,
	// the next one knows it may have run.
	q.journalError(q.opts.Journal.Start(req.ID, n, time.Now()))
	prefix := records.ShortID(req.ID)
	if max > 1 {
		prefix += fmt.Sprintf("/%d", n)
	}
	tl := p.InvocationLog(name, prefix)
	req.Log = func(ls runtime.Stream, line []byte) {
		tl.Line(line)
		rec.Log(n, ls == runtime.Stderr, line)
	}
	start := time.Now()
	var res *runtime.Result
	var err error
	if inv, ok := q.opts.Lookup(name); !ok {
		err = fmt.Errorf("function %s no longer exists", name)
	} else {
		res, err = inv.Invoke(q.base, req)
	}
	tl.End()
	took := time.Since(start)
	pid := runtime.PidOf(err)
	if res != nil {
		pid = res.Pid
		if err == nil && res.Error != nil {
			err = res.Error
		}
	}
	if err == nil {
		rec.EndAttempt(records.Succeeded, pid, nil)
		q.journalEnd(rec, n)
		rec.Finish(records.Succeeded)
		p.Succeeded(name, prefix, took, n, max)
		return
	}
	if q.base.Err() != nil {
		rec.EndAttempt(records.Interrupted, pid, &records.Error{Type: "Interrupted", Message: "bgfn stopped during the invocation"})
		q.journalEnd(rec, n)
		rec.Finish(records.Interrupted)
		p.Interrupted(name, prefix, took)
		return
	}
	fe := runtime.ErrorOf(err)
	status, verb := records.Failed, "failed"
	if runtime.IsTimeout(err) {
		status, verb = records.TimedOut, "timed out"
	}
	rec.EndAttempt(status, pid, RecordError(fe))
	q.journalEnd(rec, n)
	retryIn := time.Duration(-1)
	if n < max {
		retryIn = q.retryDelay(n)
		rec.Retry(time.Now().Add(retryIn))
		q.scheduleRetry(fq, it, retryIn)
	} else {
		rec.Finish(status)
	}
	p.AttemptFailed(name, prefix, verb, n, max, took, fe.Error(), fe.Stack, retryIn)
}

// journalEnd journals how attempt n of rec ended.
func (q *Queue) journalEnd(rec *records.Record, n int) {
	if q.opts.Journal == nil {
		return
	}
	if a, ok := rec.Attempt(n); ok {
		q.opts.Journal.End(rec.ID(), a)
	}
}

// RecordError is fe as a record keeps it.
func RecordError(fe *runtime.FunctionError) *records.Error {
	if fe == nil {
		return nil
	}
	return &records.Error{Type: fe.Type, Message: fe.Message, Stack: fe.Stack}
}

func (q *Queue) scheduleRetry(fq *fnQueue, it *item, delay time.Duration) {
	if delay <= 0 {
		q.enqueue(fq.name, it)
		return
	}
	fq.mu.Lock()
	defer fq.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		fq.mu.Lock()
		delete(fq.timers, t)
		fq.mu.Unlock()
		if q.base.Err() == nil {
			q.enqueue(fq.name, it)
		}
	})
	fq.timers[t] = struct{}{}
}
