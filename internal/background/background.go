package background

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// BurstRunning caps them instead while accepts arrive in a burst
	// (see burst.go); 0 means DefaultBurstRunning.
	BurstRunning int
	// SpillAfter is how many queued invocations keep their events in
	// memory; past it, a newly queued invocation's event stays only in the
	// journal and is read back when its attempt starts, so a long queue
	// costs little memory. 0 means DefaultSpillAfter, negative never;
	// without a journal nothing spills.
	SpillAfter int
	// Journal, when set, makes runs durable: an invocation is journaled
	// before Accept returns (so before its 202), each attempt before it
	// starts, and its end. Nil journals nothing.
	Journal *journal.Journal
}

// Queue runs background invocations.
type Queue struct {
	opts Options
	// held counts the queued invocations that hold their events in memory.
	held atomic.Int64
	// active counts running attempts.
	active sync.WaitGroup

	// journalWarned is set once a journal write failure has been printed.
	journalWarned sync.Once
	// burst notices bursts of accepts, during which fewer attempts start.
	burst burst

	mu       sync.Mutex
	draining bool
	queues   map[string]*fnQueue
	// runs holds every accepted invocation that has not ended, by id, for
	// Cancel and RetryNow.
	runs map[string]*item
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
	if opts.BurstRunning <= 0 {
		opts.BurstRunning = DefaultBurstRunning
	}
	q := &Queue{opts: opts, queues: make(map[string]*fnQueue), runs: make(map[string]*item)}
	q.burst.ended = q.refill
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
	q.burst.note(time.Now())
	defer q.burst.done()
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
	q.track(inv.Function, &item{rec: rec, req: inv.Req})
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
		q.track(run.Function, &item{rec: rec, req: &runtime.Request{
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

// track queues an accepted invocation and keeps it by id for Cancel and
// RetryNow until it ends.
func (q *Queue) track(function string, it *item) {
	q.mu.Lock()
	q.runs[it.rec.ID()] = it
	q.mu.Unlock()
	if q.opts.Journal != nil && q.opts.SpillAfter >= 0 {
		if q.held.Load() >= int64(q.spillAfter()) && q.opts.Journal.Spill(it.rec.ID()) {
			it.req.Event, it.spilled = nil, true
		} else {
			q.held.Add(1)
			it.held = true
		}
	}
	q.enqueue(function, it)
}

// DefaultSpillAfter is how many queued invocations keep their events in
// memory by default (about 2 MB of events).
const DefaultSpillAfter = 1000

func (q *Queue) spillAfter() int {
	if q.opts.SpillAfter == 0 {
		return DefaultSpillAfter
	}
	return q.opts.SpillAfter
}

// taken is called when a runner takes it from its queue.
func (q *Queue) taken(it *item) {
	if it.held {
		q.held.Add(-1)
		it.held = false
	}
}

// unspill reads a spilled invocation's event back from the journal.
func (q *Queue) unspill(it *item) error {
	if !it.spilled {
		return nil
	}
	ev, err := q.opts.Journal.Event(it.req.ID)
	if err != nil {
		return fmt.Errorf("bgfn could not read the queued invocation back from its journal: %w", err)
	}
	it.req.Event, it.spilled = ev, false
	return nil
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
	q.burst.stop()
	// The queues are copied first: enqueue holds a queue's lock while it
	// takes q.mu, so holding q.mu while taking a queue's lock could
	// deadlock with a retry timer firing now.
	for _, fq := range q.fnQueues() {
		fq.stopTimers()
	}
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

	// mu guards what follows: where the invocation is, so Cancel and
	// RetryNow act on it once, whatever runs at the same time.
	mu        sync.Mutex
	phase     phase
	cancelled bool
	// stop cancels the running attempt (phase running).
	stop context.CancelFunc
	// timer waits for the next attempt (phase waiting).
	timer *time.Timer

	// held and spilled are set by track and cleared when a runner takes
	// the item, which the queue's lock orders after track.
	held    bool // counted in Queue.held
	spilled bool // req.Event is left in the journal
}

// phase is where an accepted invocation is.
type phase int

const (
	inQueue phase = iota // queued for its first attempt or a retry
	running
	waiting // for its retry timer
)

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
	start := fq.running < q.limit() && !q.isDraining()
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
		if !q.isDraining() && fq.running <= q.limit() {
			// Past the limit (a burst of accepts began), this runner
			// stops; refill starts it again when the burst ends.
			it = fq.pop()
		}
		if it == nil {
			fq.running--
			fq.mu.Unlock()
			return
		}
		q.active.Add(1)
		q.taken(it)
		fq.mu.Unlock()
		if ctx, ok := it.begin(q.base); ok {
			q.attempt(fq, it, ctx)
		}
		q.active.Done()
	}
}

// begin moves it from the queue to running, with the context its attempt
// runs in. It reports false for an invocation cancelled while queued:
// Cancel has recorded it, and it never starts.
func (it *item) begin(base context.Context) (context.Context, bool) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.cancelled {
		return nil, false
	}
	ctx, stop := context.WithCancel(base)
	it.phase, it.stop = running, stop
	return ctx, true
}

// isCancelled reports whether Cancel was called.
func (it *item) isCancelled() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.cancelled
}

// retryDelay is the wait before retry number n (1-based).
func (q *Queue) retryDelay(n int) time.Duration {
	d := q.opts.RetryDelays
	if n-1 < len(d) {
		return d[n-1]
	}
	return d[len(d)-1]
}

// attempt runs one attempt of an invocation in ctx and decides what comes
// next: done, a retry later, or the end.
func (q *Queue) attempt(fq *fnQueue, it *item, ctx context.Context) {
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
	req.Started = rec.Running
	start := time.Now()
	var res *runtime.Result
	var err error
	if inv, ok := q.opts.Lookup(name); !ok {
		err = fmt.Errorf("function %s no longer exists", name)
	} else if err = q.unspill(it); err == nil {
		res, err = inv.Invoke(ctx, req)
		if err == nil {
			err = finishDeferred(ctx, res)
		}
	}
	it.mu.Lock()
	it.stop()
	it.stop = nil
	it.mu.Unlock()
	tl.End()
	took := time.Since(start)
	pid := runtime.PidOf(err)
	if res != nil {
		pid = res.Pid
		if err == nil && res.Error != nil {
			err = res.Error
		}
	}
	if res != nil && res.Response != nil {
		rec.SetResponse(Response(res.Response))
	}
	if err == nil {
		rec.EndAttempt(records.Succeeded, pid, nil)
		q.journalEnd(rec, n)
		q.finish(rec, records.Succeeded)
		p.Succeeded(name, prefix, took, n, max)
		return
	}
	if it.isCancelled() && q.base.Err() == nil {
		// Cancel stopped the attempt: its instance was killed (a thread
		// terminated, a process group killed) and the pool starts afresh.
		rec.EndAttempt(records.Cancelled, pid, &records.Error{Type: "Cancelled", Message: "cancelled while it ran"})
		q.journalEnd(rec, n)
		q.finish(rec, records.Cancelled)
		p.Cancelled(name, prefix, took)
		return
	}
	if q.base.Err() != nil {
		rec.EndAttempt(records.Interrupted, pid, &records.Error{Type: "Interrupted", Message: "bgfn stopped during the invocation"})
		q.journalEnd(rec, n)
		q.finish(rec, records.Interrupted)
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
		q.finish(rec, status)
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
	it.mu.Lock()
	defer it.mu.Unlock()
	if delay <= 0 {
		it.phase = inQueue
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
		it.mu.Lock()
		defer it.mu.Unlock()
		if it.timer != t || q.base.Err() != nil {
			return // cancelled, or retried now
		}
		it.phase, it.timer = inQueue, nil
		q.enqueue(fq.name, it)
	})
	it.phase, it.timer = waiting, t
	fq.timers[t] = struct{}{}
}

// finish gives rec its final status and forgets the invocation.
func (q *Queue) finish(rec *records.Record, s records.Status) {
	rec.Finish(s)
	q.mu.Lock()
	delete(q.runs, rec.ID())
	q.mu.Unlock()
}

// Response is what a background handler returned, as its record keeps it
// (Netlify sends it nowhere; the runs page shows it).
func Response(raw []byte) *records.Response {
	var v struct {
		StatusCode int            `json:"statusCode"`
		Headers    map[string]any `json:"headers"`
		Body       *string        `json:"body"`
		Base64     bool           `json:"isBase64Encoded"`
	}
	if json.Unmarshal(raw, &v) != nil || v.StatusCode == 0 && v.Body == nil {
		return nil
	}
	r := &records.Response{Status: v.StatusCode, Headers: map[string]string{}, BodyBase64: v.Base64}
	for k, x := range v.Headers {
		r.Headers[k] = fmt.Sprint(x)
	}
	if v.Body != nil {
		b := *v.Body
		r.BodySize = len(b)
		if len(b) > records.MaxResponseBody {
			b, r.BodyTruncated = b[:records.MaxResponseBody], true
		}
		r.Body = b
	}
	return r
}

// Errors of Cancel and RetryNow.
var (
	// ErrUnknown: no background invocation has that id (it may be a
	// synchronous one, or one that ended).
	ErrUnknown = errors.New("no such background invocation")
)

// StateError is a Cancel or RetryNow that does not fit where the
// invocation is.
type StateError struct {
	ID     string
	Status records.Status
	// Want says what the action needs.
	Want string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("invocation %s is %s: %s", e.ID, e.Status, e.Want)
}

// Cancel stops a background invocation for good: a queued one never
// starts, a running one has its instance stopped (the thread terminated,
// the process group killed), one waiting for a retry is not retried. It
// ends as cancelled. Cancel returns once that is decided; a running
// attempt's record is final when its instance is gone (wait on
// Record.Done).
func (q *Queue) Cancel(id string) (*records.Record, error) {
	q.mu.Lock()
	it := q.runs[id]
	q.mu.Unlock()
	if it == nil {
		return q.unknown(id, "only a queued, running or retrying background invocation can be cancelled")
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.cancelled {
		return it.rec, nil
	}
	it.cancelled = true
	name, short := it.rec.Function(), records.ShortID(id)
	switch it.phase {
	case running:
		it.stop()
	case waiting:
		it.timer.Stop()
		it.timer = nil
		q.finish(it.rec, records.Cancelled)
		q.opts.Printer.Cancelled(name, short, -1)
	case inQueue:
		// It stays in its function's queue until a runner pops it and
		// skips it; it is final now.
		q.finish(it.rec, records.Cancelled)
		q.opts.Printer.Cancelled(name, short, -1)
	}
	return it.rec, nil
}

// RetryNow starts the next attempt of an invocation waiting for a retry
// at once (as soon as its function has a free slot), instead of at the
// end of its wait.
func (q *Queue) RetryNow(id string) (*records.Record, error) {
	q.mu.Lock()
	it := q.runs[id]
	q.mu.Unlock()
	if it == nil {
		return q.unknown(id, "only an invocation waiting for a retry can be retried now")
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.phase != waiting || it.cancelled {
		return it.rec, &StateError{ID: id, Status: it.rec.Status(), Want: "only an invocation waiting for a retry can be retried now"}
	}
	it.timer.Stop()
	it.phase, it.timer = inQueue, nil
	q.enqueue(it.rec.Function(), it)
	return it.rec, nil
}

// unknown is the error for an id the queue does not hold: a StateError
// when the records know it (it ended, or is not a background one).
func (q *Queue) unknown(id, want string) (*records.Record, error) {
	rec, ok := q.opts.Records.Get(id)
	if !ok {
		return nil, ErrUnknown
	}
	if rec.Kind() != "background" && !rec.Status().Final() {
		return rec, &StateError{ID: id, Status: rec.Status(), Want: "it is a " + rec.Kind() + " invocation, which ends with its request; " + want}
	}
	return rec, &StateError{ID: id, Status: rec.Status(), Want: want}
}

// Conflict tells the API to answer 409.
func (e *StateError) Conflict() bool { return true }

// finishDeferred waits for what an invocation does after its response:
// a streamed body (read and dropped: Netlify ignores a background
// function's answer) and its waitUntil work, which belong to the attempt
// and its timeout. It returns what ended that work, if anything did.
func finishDeferred(ctx context.Context, res *runtime.Result) error {
	if res.Stream != nil {
		for {
			if _, err := res.Stream.Next(ctx); err != nil {
				break
			}
		}
	}
	return res.Wait()
}

// fnQueues returns the functions' queues as they are now.
func (q *Queue) fnQueues() []*fnQueue {
	q.mu.Lock()
	defer q.mu.Unlock()
	fqs := make([]*fnQueue, 0, len(q.queues))
	for _, fq := range q.queues {
		fqs = append(fqs, fq)
	}
	return fqs
}
