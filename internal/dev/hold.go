package dev

import (
	"context"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// holdLimit bounds how long a request waits for a function being rebuilt
// before the build in use answers it.
const holdLimit = time.Second

// hold makes a function's requests wait while a save of its code is built
// and loaded, so that a request made after the save runs the saved code,
// as the next request after a save does under netlify dev (issue 19: the
// reload figure is edit → first new body). It is released when the new
// build is swapped in, or when the reload ends without one; a request
// waits holdLimit at most, then the build in use answers it.
type hold struct {
	done  chan struct{}
	until time.Time
	once  sync.Once
}

func newHold(limit time.Duration) *hold {
	return &hold{done: make(chan struct{}), until: time.Now().Add(limit)}
}

// release lets the waiting requests go.
func (h *hold) release() { h.once.Do(func() { close(h.done) }) }

// wait waits until the hold is released (true) or its limit has passed
// (false), or ctx ends.
func (h *hold) wait(ctx context.Context) (bool, error) {
	d := time.Until(h.until)
	if d <= 0 {
		select {
		case <-h.done:
			return true, nil
		default:
			return false, nil
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.done:
		return true, nil
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// held is a function put on hold by a reload: the entry it had and the
// one that holds its requests.
type held struct {
	orig, holding *entry
}

// holdRebuilds puts on hold the JS and TS functions a plan rebuilds (an
// esbuild build and a thread's import take milliseconds; Go functions,
// whose go build takes seconds, keep answering from the old binary). The
// holding entry serves as the old one did once its hold ends.
func (i *Instance) holdRebuilds(steps []step) []held {
	var out []held
	for _, st := range steps {
		if st.kind != stepRebuild || st.fn.Runtime == discover.RuntimeGo {
			continue
		}
		e, ok := i.reg.get(st.fn.Name)
		if !ok || e.building != nil || e.hold != nil {
			continue
		}
		h := *e
		h.hold = newHold(holdLimit)
		i.reg.set(st.fn.Name, &h)
		out = append(out, held{orig: e, holding: &h})
	}
	return out
}

// releaseHolds ends the holds of a reload: a function the reload did not
// swap (its files changed again while they were built) gets its entry
// back, then its requests go.
func (i *Instance) releaseHolds(hs []held) {
	for _, h := range hs {
		if cur, ok := i.reg.get(h.orig.fn.Name); ok && cur == h.holding {
			i.reg.set(h.orig.fn.Name, h.orig)
		}
		h.holding.hold.release()
	}
}

// prepared is a rebuilt function's new pool, its first instance starting
// before the reload has decided to swap it in.
type prepared struct {
	pool *runtime.Pool
	wait func(ctx context.Context, d time.Duration)
}

// prepareSwaps starts the new instance of each warm function a plan
// rebuilds, so that it loads while Confirm waits for the files to settle
// (5 ms after the last change, on a reload's path once builds took less:
// issue 19); the swap then waits for that start instead of beginning one.
// Only with the configuration unchanged: the pools are made before apply
// puts the new site and environment in place.
func (i *Instance) prepareSwaps(cur *site.Site, steps []step, arts []build.Artifact) {
	if cur.Config != i.site.Config {
		return
	}
	for k, st := range steps {
		fn := st.fn
		if st.kind != stepRebuild || arts[k].Err != nil || fn.Invalid != "" || fn.ConfigError != "" {
			continue
		}
		if old := i.pools[fn.Name]; old == nil || old.Stats().Workers == 0 {
			continue
		}
		if i.prepared == nil {
			i.prepared = make(map[string]prepared)
		}
		p := runtime.NewPool(i.starter(fn, arts[k]), i.maxConcurrency, i.tools.budget)
		i.prepared[fn.Name] = prepared{pool: p, wait: p.WarmAhead()}
	}
}

// takePrepared returns the pool prepareSwaps made for name, if any.
func (i *Instance) takePrepared(name string) (prepared, bool) {
	pr, ok := i.prepared[name]
	delete(i.prepared, name)
	return pr, ok
}

// dropPrepared stops the pools of a reload that swapped them nothing in.
func (i *Instance) dropPrepared() {
	for name, pr := range i.prepared {
		i.retire(pr.pool)
		delete(i.prepared, name)
	}
}
