package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// bgItem is one accepted background invocation.
type bgItem struct {
	rec *records.Record
	req *runtime.Request
}

// bgQueue holds a function's background invocations in arrival order and
// runs at most max of them at once. Retries wait on timers, not runners.
// Memory grows only with what is queued.
type bgQueue struct {
	name    string
	mu      sync.Mutex
	items   []*bgItem
	head    int
	running int
	timers  map[*time.Timer]struct{}
}

func (s *Server) queue(name string) *bgQueue {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		q = &bgQueue{name: name, timers: make(map[*time.Timer]struct{})}
		s.queues[name] = q
	}
	return q
}

// enqueue adds it to its function's queue and starts a runner if one is
// free.
func (s *Server) enqueue(name string, it *bgItem) {
	q := s.queue(name)
	q.mu.Lock()
	q.items = append(q.items, it)
	start := q.running < s.opts.MaxBackgroundRunning && !s.draining.Load()
	if start {
		q.running++
	}
	q.mu.Unlock()
	if start {
		go s.runQueue(q)
	}
}

func (q *bgQueue) pop() *bgItem {
	if q.head == len(q.items) {
		return nil
	}
	it := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		// Compact so a long queue does not keep its consumed prefix.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return it
}

func (q *bgQueue) stopTimers() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for t := range q.timers {
		t.Stop()
	}
	clear(q.timers)
}

// runQueue runs queued invocations until the queue is empty or bgfn is
// shutting down.
func (s *Server) runQueue(q *bgQueue) {
	for {
		q.mu.Lock()
		var it *bgItem
		if !s.draining.Load() {
			it = q.pop()
		}
		if it == nil {
			q.running--
			q.mu.Unlock()
			return
		}
		s.active.Add(1)
		q.mu.Unlock()
		s.attempt(q, it)
		s.active.Done()
	}
}

// retryDelay is the wait before retry number n (1-based).
func (s *Server) retryDelay(n int) time.Duration {
	d := s.opts.RetryDelays
	if n-1 < len(d) {
		return d[n-1]
	}
	return d[len(d)-1]
}

// attempt runs one attempt of a background invocation and decides what
// comes next: done, a retry later, or the end.
func (s *Server) attempt(q *bgQueue, it *bgItem) {
	sink := s.opts.Sink
	st := sink.Styles()
	rec, req := it.rec, it.req
	name := q.name
	max := rec.MaxAttempts
	n := rec.StartAttempt()
	prefix := ShortID(req.ID)
	if max > 1 {
		prefix += "/" + strconv.Itoa(n)
	}
	req.Log = func(ls runtime.Stream, line []byte) {
		sink.FunctionLine(name, prefix, line)
		rec.Log(n, ls, line)
	}
	start := time.Now()
	var res *runtime.Result
	var err error
	fn, ok := s.opts.Registry.Lookup(name)
	if !ok {
		err = fmt.Errorf("function %s no longer exists", name)
	} else {
		res, err = s.run(s.base, fn, req)
	}
	took := time.Since(start)
	pid := errorPid(err)
	if res != nil {
		pid = res.Pid
		if err == nil && res.Error != nil {
			err = res.Error
		}
	}
	if err == nil {
		rec.EndAttempt(records.Succeeded, pid, nil)
		rec.Finish(records.Succeeded)
		sink.Line(sink.Prefix(name, prefix) + " " + st.Render(st.Success, "✔ succeeded in "+formatDuration(took)) + attemptNote(n, max))
		return
	}
	if s.base.Err() != nil {
		rec.EndAttempt(records.Interrupted, pid, &runtime.FunctionError{Type: "Interrupted", Message: "bgfn stopped during the invocation"})
		rec.Finish(records.Interrupted)
		sink.Line(sink.Prefix(name, prefix) + " " + st.Render(st.Warning, "⏹ interrupted after "+formatDuration(took)))
		return
	}
	fe := functionError(err)
	status := records.Failed
	verb := "failed"
	var te *runtime.TimeoutError
	if errors.As(err, &te) {
		status, verb = records.TimedOut, "timed out"
	}
	rec.EndAttempt(status, pid, fe)
	// The first line of the message carries the outcome; further message
	// lines and the stack follow, each with the prefix, dimmed.
	msg := strings.Split(fe.Error(), "\n")
	head := fmt.Sprintf("✖ %s (attempt %d/%d) after %s: %s", verb, n, max, formatDuration(took), msg[0])
	if n < max {
		delay := s.retryDelay(n)
		head += " — retrying in " + formatWait(delay)
		rec.Retry(time.Now().Add(delay))
		s.scheduleRetry(q, it, delay)
	} else {
		rec.Finish(status)
	}
	lines := []string{sink.Prefix(name, prefix) + " " + st.Render(st.Failure, head)}
	for _, l := range append(msg[1:], fe.Stack...) {
		lines = append(lines, sink.Prefix(name, prefix)+" "+st.Render(st.Dim, l))
	}
	sink.Lines(lines...)
}

func attemptNote(n, max int) string {
	if max <= 1 || n == 1 {
		return ""
	}
	return fmt.Sprintf(" (attempt %d/%d)", n, max)
}

func (s *Server) scheduleRetry(q *bgQueue, it *bgItem, delay time.Duration) {
	if delay <= 0 {
		s.enqueue(q.name, it)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		q.mu.Lock()
		delete(q.timers, t)
		q.mu.Unlock()
		if s.base.Err() == nil {
			s.enqueue(q.name, it)
		}
	})
	q.timers[t] = struct{}{}
}

func formatWait(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// errorPid is the worker behind a worker failure, or 0.
func errorPid(err error) int {
	var te *runtime.TimeoutError
	var ee *runtime.ExitError
	switch {
	case errors.As(err, &te):
		return te.Pid
	case errors.As(err, &ee):
		return ee.Pid
	}
	return 0
}
