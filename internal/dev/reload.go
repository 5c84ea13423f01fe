package dev

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/watch"
)

// watchLoop rebuilds what changed until ctx ends.
func (i *Instance) watchLoop(ctx context.Context, poll bool) error {
	w, err := watch.New(watch.Options{Poll: poll})
	if err != nil {
		st := i.opts.Sink.Styles()
		i.opts.Sink.Line(st.Render(st.Warning, "⚠ cannot watch files ("+err.Error()+"): reload is off; run bgfn dev --poll to poll for changes instead"))
		return nil
	}
	i.mu.Lock()
	i.w = w
	i.setWatchLocked(w)
	i.mu.Unlock()
	go w.Run(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-w.Batches():
			i.reload(ctx, batch)
		}
	}
}

// setWatch points the watcher at the functions folder, the config files
// and every input of every function (which may live outside the folder).
func (i *Instance) setWatchLocked(w *watch.Watcher) {
	s := i.site
	files := append([]string(nil), s.cfg.WatchPaths...)
	for _, art := range s.arts {
		for _, in := range art.Inputs {
			if !strings.Contains(in, string(filepath.Separator)+"node_modules"+string(filepath.Separator)) {
				files = append(files, in)
			}
		}
	}
	w.Set([]string{s.cfg.FunctionsDir}, files)
}

// reload applies a batch of changed files: new configuration, new, removed
// and changed functions. Only functions whose inputs changed are rebuilt;
// their new workers take new invocations while in-flight ones finish on the
// old workers.
func (i *Instance) reload(ctx context.Context, changed []string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	sink := i.opts.Sink
	st := sink.Styles()
	s := i.site
	changedSet := make(map[string]bool, len(changed))
	for _, p := range changed {
		changedSet[p] = true
	}

	// Configuration first: a broken file keeps the previous one.
	envChanged := false
	var settingsChanged func(name string) bool = func(string) bool { return false }
	configTouched := false
	for _, p := range s.cfg.WatchPaths {
		if changedSet[p] {
			configTouched = true
		}
	}
	if configTouched && s.cfg.ConfigFile != "" {
		// An editor that rewrites netlify.toml in place truncates it first;
		// an empty file now is a save in progress, not a new config.
		if fi, err := os.Stat(s.cfg.ConfigFile); err == nil && fi.Size() == 0 {
			configTouched = false
		}
	}
	if configTouched {
		cfg, err := config.Load(i.opts.Config)
		if err != nil {
			sink.Line(st.Render(st.Failure, "✖ "+err.Error()) + st.Render(st.Dim, " (keeping the previous configuration until the file is fixed)"))
		} else {
			old := s.cfg
			envChanged = !maps.Equal(old.Env, cfg.Env)
			settingsChanged = func(name string) bool {
				a, b := old.Functions.For(name), cfg.Functions.For(name)
				return !slices.Equal(a.ExternalNodeModules, b.ExternalNodeModules) || a.Schedule != b.Schedule ||
					(a.Background == nil) != (b.Background == nil) || (a.Background != nil && *a.Background != *b.Background)
			}
			if cfg.FunctionsDir != old.FunctionsDir {
				sink.Line(st.Render(st.Accent, "⬥ Functions folder is now "+relTo(cfg.SiteDir, cfg.FunctionsDir)))
				// Every function comes from a new place: start afresh.
				settingsChanged = func(string) bool { return true }
			}
			for _, w := range cfg.Warnings {
				if !slices.Contains(old.Warnings, w) {
					sink.Line(st.Render(st.Warning, "⚠ "+w))
				}
			}
			s.cfg = cfg
			if envChanged {
				sink.Line(st.Render(st.Accent, "⬥ Environment changed: restarting every function's workers") + st.Render(st.Dim, " ("+strings.Join(envKeysChanged(old, cfg), ", ")+")"))
			}
		}
	}

	fns, warnings, err := discover.Discover(os.DirFS(s.cfg.FunctionsDir), func(name string) discover.Settings {
		fs := s.cfg.Functions.For(name)
		return discover.Settings{Background: fs.Background, Schedule: fs.Schedule}
	})
	if err != nil {
		sink.Line(st.Render(st.Failure, "✖ "+err.Error()))
		return
	}
	for _, w := range warnings {
		if !slices.Contains(s.warnings, w) {
			sink.Line(st.Render(st.Warning, "⚠ "+w))
		}
	}
	s.warnings = warnings

	old := make(map[string]discover.Function, len(s.functions))
	for _, fn := range s.functions {
		old[fn.Name] = fn
	}
	type job struct {
		fn      discover.Function
		why     string
		rebuild bool
		added   bool
	}
	var jobs []job
	for _, fn := range fns {
		prev, existed := old[fn.Name]
		if existed && emptyEntry(s.cfg.FunctionsDir, fn) {
			// An editor that rewrites in place truncates first: an empty
			// entry is a save in progress; the write that follows brings
			// the next batch.
			continue
		}
		switch {
		case !existed:
			jobs = append(jobs, job{fn: fn, rebuild: true, added: true})
		case prev.Entry != fn.Entry || prev.Runtime != fn.Runtime || settingsChanged(fn.Name) || !sameConfig(prev, fn):
			jobs = append(jobs, job{fn: fn, rebuild: true, why: "config"})
		default:
			if hit := touched(s.arts[fn.Name].Inputs, changedSet, s.cfg.BaseDir); hit != "" || s.arts[fn.Name].Err != nil && touchedDir(changedSet, s.cfg.FunctionsDir) {
				if hit == "" {
					hit = "retry after build error"
				}
				jobs = append(jobs, job{fn: fn, rebuild: true, why: hit})
			} else if envChanged || prev.Kind != fn.Kind {
				jobs = append(jobs, job{fn: fn, why: "env"})
			}
		}
	}
	var removed []string
	for name := range old {
		if !slices.ContainsFunc(fns, func(f discover.Function) bool { return f.Name == name }) {
			removed = append(removed, name)
		}
	}
	sort.Strings(removed)
	if len(jobs) == 0 && len(removed) == 0 {
		s.functions = fns
		return
	}

	// Build in parallel, then swap one function at a time.
	arts := make([]build.Artifact, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, goruntime.NumCPU())
	for k, j := range jobs {
		if !j.rebuild {
			arts[k] = s.arts[j.fn.Name]
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			arts[k] = s.buildOne(j.fn)
		}()
	}
	wg.Wait()

	env := s.baseEnv(i.URL)
	i.env = env
	s.spares.SetEnv(env)
	defer s.spares.Fill()
	for k, j := range jobs {
		art := arts[k]
		prevArt := s.arts[j.fn.Name]
		s.arts[j.fn.Name] = art
		if art.Err != nil {
			// Show a build error once, not on every save that keeps it.
			if prevArt.Err == nil || prevArt.Err.Detail() != art.Err.Detail() || j.added {
				lines := []string{st.Render(st.Failure, "✖ Failed to build function "+j.fn.Name+" ("+fmtBuild(art.Duration)+"):")}
				for _, l := range strings.Split(art.Err.Detail(), "\n") {
					lines = append(lines, "  "+l)
				}
				lines = append(lines, st.Render(st.Dim, "  it answers 500 until the next good save"))
				sink.Lines(lines...)
			}
		}
		if art.Err == nil && (j.added || !slices.Equal(prevArt.Warnings, art.Warnings)) {
			printBuildWarnings(sink, j.fn.Name, art.Warnings)
		}
		i.swap(ctx, j.fn, art, env, !j.added)
		switch {
		case art.Err != nil:
		case j.added:
			sink.Line(st.Render(st.Success, "⬥ Loaded function "+j.fn.Name) + st.Render(st.Dim, " in "+fmtBuild(art.Duration)+" · "+string(j.fn.Kind)+" · "+i.URL+"/.netlify/functions/"+j.fn.Name))
		case j.rebuild:
			sink.Line(st.Render(st.Success, "⬥ Reloaded function "+j.fn.Name+" in "+fmtBuild(art.Duration)) + st.Render(st.Dim, " ("+describe(j.why)+")"))
		default:
			sink.Line(st.Render(st.Success, "⬥ Restarted function "+j.fn.Name) + st.Render(st.Dim, " ("+describe(j.why)+")"))
		}
	}
	for _, name := range removed {
		i.remove(name)
		sink.Line(st.Render(st.Accent, "⬥ Removed function "+name))
	}
	s.functions = fns
	width := 0
	for _, fn := range fns {
		width = max(width, len(fn.Name))
	}
	sink.SetWidth(width + 7)
	if i.w != nil {
		i.setWatchLocked(i.w)
	}
}

func describe(why string) string {
	switch why {
	case "config":
		return "netlify.toml changed"
	case "env":
		return "environment changed"
	}
	return "changed: " + why
}

func fmtBuild(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return d.Round(time.Millisecond).String()
}

// touched returns the first input of a function that changed, relative to
// base, or "".
func touched(inputs []string, changed map[string]bool, base string) string {
	for _, in := range inputs {
		if changed[in] {
			return relTo(base, in)
		}
	}
	return ""
}

func touchedDir(changed map[string]bool, dir string) bool {
	for p := range changed {
		if strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func envKeysChanged(a, b *config.Config) []string {
	var keys []string
	for k, v := range b.Env {
		if ov, ok := a.Env[k]; !ok || ov != v {
			keys = append(keys, k)
		}
	}
	for k := range a.Env {
		if _, ok := b.Env[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 6 {
		keys = append(keys[:6], fmt.Sprintf("%d more", len(keys)-6))
	}
	return keys
}

// swap makes fn answer from a new pool built from art (or with its build
// error), then lets the old pool finish its in-flight invocations and stop.
// When the function existed (warm), the new pool's first worker is started
// before the swap so no request waits on a cold start the old pool could
// have served.
func (i *Instance) swap(ctx context.Context, fn discover.Function, art build.Artifact, env []string, warm bool) {
	s := i.site
	sf := serverFunction(fn)
	var pool *runtime.Pool
	if art.Err != nil {
		sf.BuildErr = art.Err
	} else if sf.Invalid == "" && sf.ConfigError == "" {
		pool = runtime.NewPool(s.starter(fn, art, env, i.opts.Sink), i.maxWorkers)
		sf.Pool = pool
		if warm {
			pool.WarmWait(ctx, 5*time.Second)
		}
	}
	i.reg.set(fn.Name, sf)
	if old := s.pools[fn.Name]; old != nil {
		go old.Close(context.Background())
	}
	if pool != nil {
		s.pools[fn.Name] = pool
	} else {
		delete(s.pools, fn.Name)
	}
}

func (i *Instance) remove(name string) {
	s := i.site
	i.reg.set(name, nil)
	if old := s.pools[name]; old != nil {
		go old.Close(context.Background())
		delete(s.pools, name)
	}
	delete(s.arts, name)
	s.builder.Forget(name)
}

// sameConfig reports whether two discoveries of a function agree on what
// its source declares (routes, schedule, kind, errors).
func sameConfig(a, b discover.Function) bool {
	return a.Kind == b.Kind && a.Schedule == b.Schedule && a.ConfigError == b.ConfigError && a.PreferStatic == b.PreferStatic &&
		slices.Equal(a.Paths, b.Paths) && slices.Equal(a.ExcludedPaths, b.ExcludedPaths) && slices.Equal(a.Methods, b.Methods)
}

func emptyEntry(dir string, fn discover.Function) bool {
	if fn.Runtime == discover.RuntimeGo {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(fn.Entry)))
	return err == nil && fi.Size() == 0
}
