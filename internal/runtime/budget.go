package runtime

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Budget bounds the instances of every pool together, so a site with many
// busy functions cannot start more than a laptop holds, and stops
// instances that stayed idle past IdleTimeout, as Lambda retires idle
// instances, so idle memory does not grow with the number of functions
// used once. When the cap is reached, a start waits (nothing is dropped)
// and the longest-idle instance of any function is stopped to make room.
type Budget struct {
	// Max caps the instances of all pools; 0 means no cap.
	Max int
	// IdleTimeout stops instances idle for longer; 0 keeps them.
	IdleTimeout time.Duration

	mu      sync.Mutex
	used    int
	waiters *list.List // of chan struct{}, in arrival order
	idle    *list.List // of *idleEntry, oldest first
	byW     map[Worker]*list.Element
	stop    chan struct{}
	wg      sync.WaitGroup
	started bool
}

type idleEntry struct {
	pool  *Pool
	w     Worker
	since time.Time
}

func (b *Budget) init() {
	if b.waiters == nil {
		b.waiters, b.idle, b.byW = list.New(), list.New(), make(map[Worker]*list.Element)
	}
}

// Start runs the idle reaper until Close.
func (b *Budget) Start() {
	if b == nil || b.IdleTimeout <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return
	}
	b.init()
	b.started = true
	b.stop = make(chan struct{})
	b.wg.Add(1)
	go b.reap()
}

// Close stops the reaper.
func (b *Budget) Close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	started := b.started
	b.started = false
	b.mu.Unlock()
	if started {
		close(b.stop)
		b.wg.Wait()
	}
}

func (b *Budget) reap() {
	defer b.wg.Done()
	every := min(max(b.IdleTimeout/4, 10*time.Millisecond), 15*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			for _, e := range b.expired(now) {
				e.pool.evict(e.w)
			}
		}
	}
}

// expired takes the idle entries older than the timeout off the list.
func (b *Budget) expired(now time.Time) []*idleEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*idleEntry
	for el := b.idle.Front(); el != nil; {
		e := el.Value.(*idleEntry)
		if now.Sub(e.since) < b.IdleTimeout {
			break
		}
		next := el.Next()
		b.idle.Remove(el)
		delete(b.byW, e.w)
		out = append(out, e)
		el = next
	}
	return out
}

// acquire takes a slot for a new instance, waiting while the budget is
// full; a full budget with an idle instance stops that instance first.
func (b *Budget) acquire(ctx context.Context) error {
	if b == nil || b.Max <= 0 {
		return nil
	}
	b.mu.Lock()
	b.init()
	if b.used < b.Max {
		b.used++
		b.mu.Unlock()
		return nil
	}
	ch := make(chan struct{}, 1)
	el := b.waiters.PushBack(ch)
	var victim *idleEntry
	if f := b.idle.Front(); f != nil {
		victim = f.Value.(*idleEntry)
		b.idle.Remove(f)
		delete(b.byW, victim.w)
	}
	b.mu.Unlock()
	if victim != nil {
		victim.pool.evict(victim.w)
	}
	select {
	case <-ch:
		// release handed its slot over: used is unchanged.
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-ch:
			// Handed over meanwhile: give it back.
			b.mu.Unlock()
			b.release()
		default:
			b.waiters.Remove(el)
			b.mu.Unlock()
		}
		return ctx.Err()
	}
}

// release gives a slot back: to the first waiting start, or to the budget.
func (b *Budget) release() {
	if b == nil || b.Max <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	if f := b.waiters.Front(); f != nil {
		b.waiters.Remove(f)
		f.Value.(chan struct{}) <- struct{}{}
		return
	}
	b.used--
}

// idleAdd notes that w became idle in p. It reports false when a start
// is waiting for room: then the caller stops w instead, and its slot goes
// to that start.
func (b *Budget) idleAdd(p *Pool, w Worker) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	if b.waiters.Len() > 0 {
		return false
	}
	if _, ok := b.byW[w]; !ok {
		b.byW[w] = b.idle.PushBack(&idleEntry{pool: p, w: w, since: time.Now()})
	}
	return true
}

// idleRemove takes w off the idle list before its pool uses it; false
// means the budget already chose it to stop, and the pool must not use it.
func (b *Budget) idleRemove(w Worker) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	el, ok := b.byW[w]
	if !ok {
		return false
	}
	b.idle.Remove(el)
	delete(b.byW, w)
	return true
}

// forget drops w from the idle list without saying who stops it (its pool
// is closing it).
func (b *Budget) forget(w Worker) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	if el, ok := b.byW[w]; ok {
		b.idle.Remove(el)
		delete(b.byW, w)
	}
}

// Stats is what the budget holds now.
func (b *Budget) Stats() (used, idle, waiting int) {
	if b == nil {
		return 0, 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	return b.used, b.idle.Len(), b.waiters.Len()
}
