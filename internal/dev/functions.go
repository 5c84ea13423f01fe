package dev

import (
	"context"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/server"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// startBudget is how long start-up waits for builds before it serves the
// ones that are done; the rest (go build, a bundle with megabytes of
// dependencies) finish in the background while their requests wait.
const startBudget = 200 * time.Millisecond

// goModuleWarnings says at once what a Go function's go.mod tells: go
// build takes seconds.
func (i *Instance) goModuleWarnings() {
	for _, fn := range i.site.Functions {
		if fn.Runtime == discover.RuntimeGo {
			i.p.Warnings(fn.Name, messages(build.GoModuleWarnings(i.site.Config.BaseDir, i.site.FunctionDir(fn))))
		}
	}
}

// messages renders build messages as the printer shows them.
func messages(ms []build.Message) []string {
	out := make([]string, len(ms))
	for k, m := range ms {
		out[k] = m.String()
	}
	return out
}

// buildAll starts building every function, bounded by the cores, in the
// site's order, and returns at once with each function's build result. A
// request for a function that has
// not started building moves it to the front (hurry), so the first
// request on a large site waits for one build, not all of them.
func (i *Instance) buildAll() (later map[string]<-chan build.Artifact, hurry func(name string)) {
	later = make(map[string]<-chan build.Artifact)
	chans := make(map[string]chan build.Artifact)
	for _, fn := range i.site.Functions {
		ch := make(chan build.Artifact, 1)
		later[fn.Name], chans[fn.Name] = ch, ch
	}
	cur := i.site
	q := &buildQueue{todo: slices.Clone(cur.Functions)}
	i.tasks.Go(func() {
		var g errgroup.Group
		for range min(goruntime.NumCPU(), max(1, len(q.todo))) {
			g.Go(func() error {
				for {
					fn, ok := q.pop()
					if !ok || i.life.Err() != nil {
						return nil
					}
					chans[fn.Name] <- i.buildOne(cur, fn)
				}
			})
		}
		g.Wait()
	})
	return later, q.hurry
}

// buildQueue is the start-up builds not yet begun, in the order they
// begin.
type buildQueue struct {
	mu   sync.Mutex
	todo []discover.Function
}

func (q *buildQueue) pop() (discover.Function, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.todo) == 0 {
		return discover.Function{}, false
	}
	fn := q.todo[0]
	q.todo = q.todo[1:]
	return fn, true
}

// hurry moves name's build to the front, unless it has begun.
func (q *buildQueue) hurry(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, fn := range q.todo {
		if fn.Name == name {
			copy(q.todo[1:k+1], q.todo[:k])
			q.todo[0] = fn
			return
		}
	}
}

// awaitStartBuilds waits until every start-up build has been swapped in
// (gates are the registry entries' building channels), at most
// startBudget, so that a small site's banner shows every function built.
func awaitStartBuilds(gates []chan struct{}) {
	t := time.NewTimer(startBudget)
	defer t.Stop()
	for _, g := range gates {
		select {
		case <-g:
		case <-t.C:
			return
		}
	}
}

// buildOne builds fn of site s.
func (i *Instance) buildOne(s *site.Site, fn discover.Function) build.Artifact {
	entry := s.EntryPath(fn)
	switch fn.Runtime {
	case discover.RuntimeJS, discover.RuntimeTS:
		fs := s.Config.Functions.For(fn.Name)
		return i.tools.js.Build(fn.Name, entry, build.JSOptions{ExternalNodeModules: fs.ExternalNodeModules})
	case discover.RuntimeGo:
		return i.tools.gob.Build(i.life, fn.Name, s.FunctionDir(fn))
	}
	return build.Artifact{Err: &build.Error{Function: fn.Name, Messages: []build.Message{{
		File: s.Rel(entry),
		Text: "bgfn cannot run " + string(fn.Runtime) + " functions",
	}}}}
}

// register puts every function in the registry with a gate that its
// requests wait on (hurrying its build) until buildLater swaps the build
// in: a pool, or the build's error.
func (i *Instance) register(later map[string]<-chan build.Artifact, hurry func(string)) (gates []chan struct{}) {
	for _, fn := range i.site.Functions {
		e := &entry{fn: i.serverFunction(fn), building: make(chan struct{}), hurry: func() { hurry(fn.Name) }}
		i.reg.set(fn.Name, e)
		ch := later[fn.Name]
		i.tasks.Go(func() { i.buildLater(fn, ch, e) })
		gates = append(gates, e.building)
	}
	return gates
}

// noteNativeAddon says once that a function's instances run as processes
// because its bundle loads a native addon.
func (i *Instance) noteNativeAddon(name string, prev, art build.Artifact) {
	if art.NativeAddon && !prev.NativeAddon && !i.opts.Standalone {
		i.p.Notice(name+" loads a native addon (.node): its instances run as Node processes, not worker threads", "")
	}
}

// buildLater swaps a start-up build in when it ends, unless a reload
// replaced the function meanwhile.
func (i *Instance) buildLater(fn discover.Function, ch <-chan build.Artifact, pending *entry) {
	defer close(pending.building)
	var art build.Artifact
	select {
	case art = <-ch:
	case <-i.life.Done():
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if cur, ok := i.reg.get(fn.Name); !ok || cur != pending || i.life.Err() != nil {
		return
	}
	i.arts[fn.Name] = art
	switch {
	case art.Err != nil:
		i.p.BuildError(fn.Name, art.Err.Detail(), art.Duration, false)
	case !i.opts.Standalone && i.bannerShown:
		// Before the banner, the banner says it is built.
		i.p.Built(fn.Name, art.Duration)
	}
	if fn.Runtime != discover.RuntimeGo {
		i.p.Warnings(fn.Name, messages(art.Warnings))
	}
	i.swap(context.Background(), fn, art, false)
	i.noteNativeAddon(fn.Name, build.Artifact{}, art)
	if i.w != nil {
		i.setWatchLocked()
	}
}

// serverFunction is what the server needs to know of fn.
func (i *Instance) serverFunction(fn discover.Function) *server.Function {
	sf := &server.Function{
		Name: fn.Name, Kind: fn.Kind, Invalid: fn.Invalid,
		Paths: fn.Paths, ExcludedPaths: fn.ExcludedPaths, Methods: fn.Methods,
		Schedule: fn.Schedule, ConfigError: fn.ConfigError,
	}
	if fn.Invalid == "" {
		sf.Invoker = &fnInvoker{reg: i.reg, name: fn.Name}
	}
	return sf
}

// swap makes fn answer from a new pool built from art (or with its build
// error), then lets the old pool finish its in-flight invocations and
// stop. With warm set (the function existed), the new pool's first worker
// is started before the swap, so no request waits on a cold start the old
// pool could have served.
func (i *Instance) swap(ctx context.Context, fn discover.Function, art build.Artifact, warm bool) {
	e := &entry{fn: i.serverFunction(fn)}
	switch {
	case art.Err != nil:
		e.buildErr = art.Err
	case fn.Invalid == "" && fn.ConfigError == "":
		if pr, ok := i.takePrepared(fn.Name); ok {
			// Its first instance began loading before the swap.
			e.pool = pr.pool
			pr.wait(ctx, 5*time.Second)
			break
		}
		e.pool = runtime.NewPool(i.starter(fn, art), i.maxConcurrency, i.tools.budget)
		if old := i.pools[fn.Name]; warm && old != nil && old.Stats().Workers > 0 {
			// The function is warm: so is its new build, before it
			// takes traffic.
			e.pool.WarmWait(ctx, 5*time.Second)
		}
	}
	prev, _ := i.reg.get(fn.Name)
	i.reg.set(fn.Name, e)
	if prev != nil && prev.hold != nil {
		// Requests held for this build go to it.
		prev.hold.release()
	}
	if old := i.pools[fn.Name]; old != nil {
		i.retire(old)
	}
	if e.pool != nil {
		i.pools[fn.Name] = e.pool
	} else {
		delete(i.pools, fn.Name)
	}
}

// retire closes a replaced pool once its in-flight invocations are done.
func (i *Instance) retire(p *runtime.Pool) {
	i.rmu.Lock()
	i.retiring[p] = struct{}{}
	i.rmu.Unlock()
	i.tasks.Go(func() {
		p.Close(context.Background())
		i.rmu.Lock()
		delete(i.retiring, p)
		i.rmu.Unlock()
	})
}

// remove stops serving a function that is gone.
func (i *Instance) remove(name string) {
	i.reg.set(name, nil)
	if old := i.pools[name]; old != nil {
		i.retire(old)
		delete(i.pools, name)
	}
	delete(i.arts, name)
	i.tools.js.Forget(name)
}

// starter returns how to start workers for one build of fn: Node over
// pipes for JS and TS, the Lambda Runtime API for Go.
func (i *Instance) starter(fn discover.Function, art build.Artifact) runtime.Starter {
	dir := i.site.FunctionDir(fn)
	name := fn.Name
	idle := func(_ runtime.Stream, line []byte) { i.p.FunctionLine(name, "", line) }
	if fn.Runtime == discover.RuntimeGo {
		maxResponse := int64(0) // Lambda's 6 MB
		if i.opts.NoLimits {
			maxResponse = -1
		}
		return &runtime.LambdaStarter{Config: runtime.LambdaConfig{
			Binary:      art.Entry,
			Name:        fn.Name,
			Dir:         dir,
			Env:         append(i.env[:len(i.env):len(i.env)], "AWS_LAMBDA_FUNCTION_NAME="+fn.Name, "LAMBDA_TASK_ROOT="+dir),
			Grace:       2 * time.Second,
			Region:      i.site.Config.Env["AWS_REGION"],
			InitTimeout: i.opts.InitTimeout,
			MaxResponse: maxResponse,
			IdleLog:     idle,
		}}
	}
	return &runtime.NodeStarter{Config: runtime.NodeConfig{
		Node:        i.tools.node,
		Bootstrap:   i.tools.bootstrap,
		Entry:       art.Entry,
		Name:        fn.Name,
		Dir:         i.site.Config.BaseDir,
		Env:         i.env,
		FuncEnv:     map[string]string{"AWS_LAMBDA_FUNCTION_NAME": fn.Name, "LAMBDA_TASK_ROOT": dir},
		Hosts:       i.tools.hosts,
		Process:     i.processIsolated(fn, art),
		Grace:       2 * time.Second,
		InitTimeout: i.opts.InitTimeout,
		IdleLog:     idle,
		OnProcessFallback: func(reason string) {
			i.p.Notice(name+" cannot run in a worker thread: its instances run as Node processes from now on", firstLine(reason))
		},
	}}
}

// processIsolated reports whether fn's instances run as Node processes:
// the user said so, or its bundle loads a native addon.
func (i *Instance) processIsolated(fn discover.Function, art build.Artifact) bool {
	for _, n := range i.opts.ProcessIsolation {
		if n == "*" || n == fn.Name {
			return true
		}
	}
	return art.NativeAddon
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// banner is what the start-up banner shows.
func (i *Instance) banner(took time.Duration) logs.Banner {
	s := i.site
	b := logs.Banner{URL: i.URL, Page: i.bannerPageURL(), FunctionsDir: s.Rel(s.Config.FunctionsDir), Took: took, Cron: i.opts.Cron}
	for _, fn := range s.Functions {
		bf := logs.BannerFunction{Name: fn.Name, Kind: string(fn.Kind), Runtime: string(fn.Runtime), Where: i.URL + "/.netlify/functions/" + fn.Name}
		if len(fn.Paths) > 0 {
			bf.Where = i.URL + strings.Join(fn.Paths, ", ")
			if len(fn.Methods) > 0 {
				bf.Where = strings.Join(fn.Methods, ",") + " " + bf.Where
			}
		}
		switch art, built := i.arts[fn.Name]; {
		case fn.Invalid != "":
			bf.State = "invalid"
		case fn.ConfigError != "":
			bf.State = "config error"
		case built && art.Err != nil:
			bf.State = "build failed"
		case !built:
			bf.State = "building"
		}
		if fn.Kind == discover.KindScheduled {
			bf.Schedule = fn.Schedule
		}
		b.Functions = append(b.Functions, bf)
	}
	return b
}
