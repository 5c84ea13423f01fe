package dev

import (
	"context"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/server"
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

// buildAll builds every function in parallel, bounded by the cores, waits
// up to startBudget, and returns the builds still running.
func (i *Instance) buildAll() map[string]<-chan build.Artifact {
	later := make(map[string]<-chan build.Artifact)
	chans := make(map[string]chan build.Artifact)
	for _, fn := range i.site.Functions {
		ch := make(chan build.Artifact, 1)
		later[fn.Name], chans[fn.Name] = ch, ch
	}
	var mu sync.Mutex
	var done []discover.Function
	finished := make(chan struct{})
	fns := i.site.Functions
	i.tasks.Go(func() {
		defer close(finished)
		var g errgroup.Group
		g.SetLimit(goruntime.NumCPU())
		for _, fn := range fns {
			g.Go(func() error {
				chans[fn.Name] <- i.buildOne(fn)
				mu.Lock()
				done = append(done, fn)
				mu.Unlock()
				return nil
			})
		}
		g.Wait()
	})
	select {
	case <-finished:
	case <-time.After(startBudget):
	}
	mu.Lock()
	ready := append([]discover.Function(nil), done...)
	mu.Unlock()
	for _, fn := range ready {
		art := <-later[fn.Name]
		delete(later, fn.Name)
		i.arts[fn.Name] = art
		if art.Err != nil {
			i.p.BuildError(fn.Name, art.Err.Detail(), 0, false)
		}
		if fn.Runtime != discover.RuntimeGo {
			// Go warnings come from go.mod and were printed already.
			i.p.Warnings(fn.Name, messages(art.Warnings))
		}
	}
	return later
}

func (i *Instance) buildOne(fn discover.Function) build.Artifact {
	entry := i.site.EntryPath(fn)
	switch fn.Runtime {
	case discover.RuntimeJS, discover.RuntimeTS:
		fs := i.site.Config.Functions.For(fn.Name)
		return i.tools.js.Build(fn.Name, entry, build.JSOptions{ExternalNodeModules: fs.ExternalNodeModules})
	case discover.RuntimeGo:
		return i.tools.gob.Build(i.life, fn.Name, i.site.FunctionDir(fn))
	}
	return build.Artifact{Err: &build.Error{Function: fn.Name, Messages: []build.Message{{
		File: i.site.Rel(entry),
		Text: "bgfn cannot run " + string(fn.Runtime) + " functions",
	}}}}
}

// register puts every function in the registry: built ones with a pool,
// failed ones with their error, and those still building with a gate that
// their requests wait on until buildLater swaps the build in.
func (i *Instance) register(later map[string]<-chan build.Artifact) {
	for _, fn := range i.site.Functions {
		if ch, ok := later[fn.Name]; ok {
			e := &entry{fn: i.serverFunction(fn), building: make(chan struct{})}
			i.reg.set(fn.Name, e)
			i.tasks.Go(func() { i.buildLater(fn, ch, e) })
			continue
		}
		i.swap(context.Background(), fn, i.arts[fn.Name], false)
		i.noteNativeAddon(fn.Name, build.Artifact{}, i.arts[fn.Name])
	}
}

// noteNativeAddon says once that a function's instances run as processes
// because its bundle loads a native addon.
func (i *Instance) noteNativeAddon(name string, prev, art build.Artifact) {
	if art.NativeAddon && !prev.NativeAddon && !i.opts.Standalone {
		i.p.Notice(name+" loads a native addon (.node): its instances run as Node processes, not worker threads", "")
	}
}

// buildLater finishes a build start-up did not wait for, unless a reload
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
	case !i.opts.Standalone:
		i.p.Built(fn.Name, art.Duration)
	}
	if fn.Runtime != discover.RuntimeGo {
		i.p.Warnings(fn.Name, messages(art.Warnings))
	}
	i.swap(context.Background(), fn, art, false)
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
		e.pool = runtime.NewPool(i.starter(fn, art), i.maxConcurrency, i.tools.budget)
		if old := i.pools[fn.Name]; warm && old != nil && old.Stats().Workers > 0 {
			// The function is warm: so is its new build, before it
			// takes traffic.
			e.pool.WarmWait(ctx, 5*time.Second)
		}
	}
	i.reg.set(fn.Name, e)
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
