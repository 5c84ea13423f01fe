package dev

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/routes"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/server"
)

// registry is the live set of functions, swapped on reload, with the route
// table of their custom paths. A function's state (being built, failed to
// build, served by a pool) is read by its invoker at every invocation, so
// a request that arrives during a build waits for it, and one whose pool
// is replaced under it follows to the new pool.
type registry struct {
	mu      sync.RWMutex
	entries map[string]*entry
	table   *routes.Table
	// stopped is set at shutdown: invocations no longer follow reloads.
	stopped bool
}

// entry is one function's state in the registry. An entry is never
// changed once set; a reload sets a new one.
type entry struct {
	fn *server.Function
	// Exactly one of these is set, unless the function is invalid.
	pool     *runtime.Pool
	buildErr *build.Error
	// building is closed when the build this entry waits for has ended
	// (and the registry holds the entry it produced).
	building chan struct{}
	// hurry, when set, moves a start-up build that has not begun to the
	// front of the queue: a request is waiting for it.
	hurry func()
	// hold, when set, makes requests wait for the rebuild under way
	// (hold.go); the rest of the entry is the build in use.
	hold *hold
}

func newRegistry() *registry { return &registry{entries: make(map[string]*entry)} }

// Lookup implements server.Registry.
func (r *registry) Lookup(name string) (*server.Function, bool) {
	r.mu.RLock()
	e, ok := r.entries[name]
	r.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return e.fn, true
}

// Route implements server.Registry.
func (r *registry) Route(method, path string) (*server.Function, string, map[string]string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.table == nil {
		return nil, "", nil, false
	}
	name, pattern, params, ok := r.table.Lookup(method, path)
	if !ok {
		return nil, "", nil, false
	}
	e, ok := r.entries[name]
	if !ok {
		return nil, "", nil, false
	}
	return e.fn, pattern, params, true
}

// invoker is the background queue's lookup.
func (r *registry) invoker(name string) (background.Invoker, bool) {
	fn, ok := r.Lookup(name)
	if !ok || fn.Invoker == nil {
		return nil, false
	}
	return fn.Invoker, true
}

func (r *registry) get(name string) (*entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[name]
	return e, ok
}

// set replaces (e != nil) or removes a function and rebuilds the route
// table, in name order as functions are discovered.
func (r *registry) set(name string, e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e == nil {
		delete(r.entries, name)
	} else {
		r.entries[name] = e
	}
	names := make([]string, 0, len(r.entries))
	for n, x := range r.entries {
		if len(x.fn.Paths) > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	list := make([]routes.Entry, 0, len(names))
	for _, n := range names {
		f := r.entries[n].fn
		list = append(list, routes.Entry{Function: n, Paths: f.Paths, Excluded: f.ExcludedPaths, Methods: f.Methods})
	}
	r.table, _ = routes.NewTable(list)
}

// stop makes invocations stop following reloads (bgfn is stopping).
func (r *registry) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
}

func (r *registry) isStopped() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.stopped
}

// fnInvoker runs a function by name: whatever the registry holds for it
// at the time of the call.
type fnInvoker struct {
	reg  *registry
	name string
}

var _ server.Invoker = (*fnInvoker)(nil)

// Invoke waits for a build under way (a rebuild on hold, for its limit),
// answers a failed build with its error, and runs the invocation on the
// function's pool, following a reload to the new pool when the old one
// closed under it.
func (v *fnInvoker) Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error) {
	for {
		e, ok := v.reg.get(v.name)
		if !ok {
			return nil, fmt.Errorf("function %s was removed", v.name)
		}
		if e.hold != nil {
			released, err := e.hold.wait(ctx)
			if err != nil {
				return nil, err
			}
			if next, ok := v.reg.get(v.name); released && (!ok || next != e) {
				continue
			}
		}
		switch {
		case e.building != nil:
			if e.hurry != nil {
				e.hurry()
			}
			select {
			case <-e.building:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if next, ok := v.reg.get(v.name); ok && next == e {
				return nil, fmt.Errorf("function %s is still being built", v.name)
			}
			continue
		case e.buildErr != nil:
			return nil, &runtime.FunctionError{Type: "BuildError", Message: e.buildErr.Detail()}
		case e.pool == nil:
			return nil, fmt.Errorf("function %s cannot run", v.name)
		}
		res, err := e.pool.Invoke(ctx, req)
		if !errors.Is(err, runtime.ErrPoolClosed) || v.reg.isStopped() {
			return res, err
		}
		if next, ok := v.reg.get(v.name); !ok || next == e {
			return res, err
		}
	}
}
