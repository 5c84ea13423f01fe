package background

import (
	"sync"
	"sync/atomic"
	"time"
)

// Accept bursts (issue 19): on a machine of two cores, 64 attempts of a
// function starting while POSTs arrive by the thousand (each a thread to
// boot, journal lines, records and log lines) took most of the CPU, and
// every accept waited behind them: 1,240 accepts/s at c50 with a p99 of
// 917 ms. Attempts are work that can wait; a client waiting for its 202
// cannot. So while accepts arrive faster than burstAccepts per
// burstWindow, or burstInflight of them wait for the journal at once
// (clients that send many at a time), each function starts at most Options.BurstRunning attempts
// at once (attempts already running go on); the queue fills up to
// MaxRunning again once neither has been seen for burstHold. A
// single POST, or a steady trickle, never triggers it: its run starts at
// once, as before.
const (
	// burstWindow and burstAccepts define a burst: 400 accepts a second
	// or more (the starts they compete with can hold a loaded machine to
	// that rate, so a higher bar would never be reached).
	burstWindow  = 20 * time.Millisecond
	burstAccepts = 8
	// burstInflight accepts in progress at once are a burst too.
	burstInflight = 4
	// burstHold is how long a burst lasts after its last busy window, at
	// least: a burst that has gone on for a while holds for a quarter of
	// its length, up to maxBurstHold, since a loaded machine stalls the
	// clients now and then (wrk's p99 was 700 ms there) and a burst that
	// ended at each stall would start 64 attempts each time.
	burstHold    = 50 * time.Millisecond
	maxBurstHold = time.Second
	// After a burst the limit doubles every rampEvery until it is
	// rampFull times BurstRunning, and then lifted: a burst that only
	// seemed to end (a stall) then starts a few attempts, not 64.
	rampEvery = 10 * time.Millisecond
	rampFull  = 64
	// maxLimited bounds how long a burst holds attempts back: accepts
	// that go on arriving faster than the bar for longer (a load test)
	// are a steady load, not a burst, and the queue's work must go on at
	// MaxRunning, or it would wait for the POSTs to stop.
	maxLimited = 2 * time.Second
)

// DefaultBurstRunning is how many attempts of one function start at once
// during a burst of accepts, by default.
const DefaultBurstRunning = 1

// burst tells whether accepts are arriving in a burst.
type burst struct {
	// ended is called, without the lock, when a burst ends.
	ended func()
	// inflight counts the accepts in progress.
	inflight atomic.Int32

	mu sync.Mutex
	// start and n count the accepts of the current window.
	start time.Time
	n     int
	// on is set during a burst, which began at began and lasts until
	// until.
	on    bool
	began time.Time
	until time.Time
	// factor times BurstRunning attempts may run; 0 lifts the limit. It
	// is 1 during a burst, and doubles after it (the ramp).
	factor int
	// timer ends the burst, then steps the ramp.
	timer *time.Timer
}

// note counts an accept arriving at now; done must follow when it has
// been journaled, or has failed.
func (b *burst) note(now time.Time) {
	inflight := b.inflight.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.start) >= burstWindow {
		b.start, b.n = now, 0
	}
	b.n++
	if b.n < burstAccepts && inflight < burstInflight {
		return
	}
	if !b.on {
		b.began = now
	}
	b.until = now.Add(min(max(burstHold, now.Sub(b.began)/4), maxBurstHold))
	if b.on {
		return
	}
	b.on, b.factor = true, 1
	if b.timer != nil {
		b.timer.Reset(burstHold) // it was ramping
		return
	}
	b.timer = time.AfterFunc(burstHold, b.check)
}

// done ends an accept that note counted.
func (b *burst) done() { b.inflight.Add(-1) }

// check ends the burst once its hold has passed, or waits for it; then
// it steps the ramp.
func (b *burst) check() {
	b.mu.Lock()
	if b.timer == nil {
		b.mu.Unlock()
		return // stopped
	}
	if left := time.Until(b.until); b.on && left > 0 {
		b.timer.Reset(left)
		b.mu.Unlock()
		return
	}
	b.on = false
	b.factor *= 2
	if b.factor >= rampFull {
		b.factor, b.timer = 0, nil
	} else {
		b.timer.Reset(rampEvery)
	}
	b.mu.Unlock()
	b.ended()
}

// active reports whether a burst is on.
func (b *burst) active() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.on
}

// limitFactor is how many times BurstRunning attempts may run now; 0
// when there is no limit, as in a burst older than maxLimited.
func (b *burst) limitFactor() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.on && time.Since(b.began) > maxLimited {
		return 0
	}
	return b.factor
}

// stop cancels the timer of a burst that is on.
func (b *burst) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.on, b.factor = false, 0
}

// limit is how many attempts of one function may run now.
func (q *Queue) limit() int {
	if f := q.burst.limitFactor(); f > 0 {
		return min(q.opts.MaxRunning, f*q.opts.BurstRunning)
	}
	return q.opts.MaxRunning
}

// refill starts runners for the queued invocations that waited for a
// burst of accepts to end, up to the limit per function.
func (q *Queue) refill() {
	if q.isDraining() {
		return
	}
	for _, fq := range q.fnQueues() {
		fq.mu.Lock()
		n := min(q.limit()-fq.running, len(fq.items)-fq.head)
		if n > 0 {
			fq.running += n
		}
		fq.mu.Unlock()
		for range n {
			go q.run(fq)
		}
	}
}
