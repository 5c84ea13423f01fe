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
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/site"
	"github.com/bgfn-dev/bgfn/internal/watch"
)

// watchLoop rebuilds what changed until ctx ends.
func (i *Instance) watchLoop(ctx context.Context, poll bool) error {
	w, err := watch.New(watch.Options{Poll: poll})
	if err != nil {
		i.p.Warning("cannot watch files (" + err.Error() + "): reload is off; run bgfn dev --poll to poll for changes instead")
		return nil
	}
	i.mu.Lock()
	i.w = w
	i.setWatchLocked()
	i.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx) })
	g.Go(func() error {
		// carry holds the paths of a batch whose files changed again
		// while it was built: they go with the next batch, which that
		// change brings. Past MaxWait of that the build is kept anyway,
		// so a file rewritten without pause still reloads.
		var carry []string
		var carrySince time.Time
		for {
			select {
			case <-gctx.Done():
				return nil
			case b := <-w.Batches():
				if len(carry) > 0 {
					b.Paths = merged(carry, b.Paths)
				} else {
					carrySince = b.At
				}
				confirm := func() bool { return w.Confirm(gctx, b) }
				if time.Since(carrySince) > carryLimit {
					confirm = nil
				}
				if i.reload(gctx, b.Paths, confirm) {
					carry = nil
				} else {
					carry = b.Paths
				}
			}
		}
	})
	return g.Wait()
}

// carryLimit bounds how long a batch may be carried over because its
// files keep changing while they are built.
const carryLimit = 500 * time.Millisecond

// merged returns the sorted union of two sorted path lists.
func merged(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// setWatchLocked points the watcher at the functions folder, the config
// files and every input of every function (which may live outside the
// folder).
func (i *Instance) setWatchLocked() {
	cfg := i.site.Config
	files := append([]string(nil), cfg.WatchPaths...)
	for _, art := range i.arts {
		for _, in := range art.Inputs {
			if !strings.Contains(in, string(filepath.Separator)+"node_modules"+string(filepath.Separator)) {
				files = append(files, in)
			}
		}
	}
	i.w.Set([]string{cfg.FunctionsDir}, files)
}

// reload applies a batch of changed files: the configuration first, then
// what the plan says for each function. Only functions whose inputs
// changed are rebuilt; their new workers take new invocations while
// in-flight ones finish on the old workers. confirm, unless nil, is asked
// once the builds are done whether the files are still as they were
// built from; when it says no, nothing is applied and reload returns
// false (the next batch brings the files again).
func (i *Instance) reload(ctx context.Context, changed []string, confirm func() bool) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	set := make(map[string]bool, len(changed))
	for _, p := range changed {
		set[p] = true
	}
	cfg := i.reloadConfig(set)
	cur, err := site.FromConfig(cfg)
	if err != nil {
		i.p.Failure(err.Error(), "")
		return true
	}
	steps := plan(planInput{old: i.site, cur: cur, arts: i.arts, changed: set, empty: emptyEntries(cur)})
	defer i.releaseHolds(i.holdRebuilds(steps))
	arts := i.buildSteps(cur, steps)
	i.prepareSwaps(cur, steps, arts)
	defer i.dropPrepared()
	if confirm != nil && !confirm() {
		return false
	}
	for _, w := range cur.Warnings {
		if !slices.Contains(i.site.Warnings, w) {
			i.p.Warning(w)
		}
	}
	i.apply(ctx, cur, steps, arts)
	return true
}

// reloadConfig returns the configuration to go on with: the new one when a
// config file changed and it loads, else the one in use. It says what
// changed that the functions' lines will not.
func (i *Instance) reloadConfig(changed map[string]bool) *config.Config {
	old := i.site.Config
	touchedConfig := false
	for _, p := range old.WatchPaths {
		touchedConfig = touchedConfig || changed[p]
	}
	if !touchedConfig {
		return old
	}
	if old.ConfigFile != "" && changed[old.ConfigFile] {
		// An editor that rewrites netlify.toml in place truncates it
		// first: an empty file is a save in progress, not a new config.
		if fi, err := os.Stat(old.ConfigFile); err == nil && fi.Size() == 0 {
			return old
		}
	}
	cfg, err := config.Load(i.opts.Config)
	if err != nil {
		i.p.Failure(err.Error(), "keeping the previous configuration until the file is fixed")
		return old
	}
	if cfg.FunctionsDir != old.FunctionsDir {
		i.p.Notice("Functions folder is now "+site.Rel(cfg.SiteDir, cfg.FunctionsDir), "")
	}
	if !maps.Equal(old.Env, cfg.Env) {
		i.p.Notice("Environment changed: restarting every function's workers", strings.Join(envKeysChanged(old, cfg), ", "))
	}
	return cfg
}

// emptyEntries names the functions whose entry file is empty now.
func emptyEntries(s *site.Site) map[string]bool {
	out := make(map[string]bool)
	for _, fn := range s.Functions {
		if fn.Runtime == discover.RuntimeGo {
			continue
		}
		if fi, err := os.Stat(s.EntryPath(fn)); err == nil && fi.Size() == 0 {
			out[fn.Name] = true
		}
	}
	return out
}

// buildSteps builds what a plan must build, in parallel; the other steps
// keep the build in use.
func (i *Instance) buildSteps(cur *site.Site, steps []step) []build.Artifact {
	arts := make([]build.Artifact, len(steps))
	var g errgroup.Group
	g.SetLimit(goruntime.NumCPU())
	for k, st := range steps {
		switch st.kind {
		case stepAdd, stepRebuild:
			g.Go(func() error { arts[k] = i.buildOne(cur, st.fn); return nil })
		case stepRestart:
			arts[k] = i.arts[st.fn.Name]
		}
	}
	g.Wait()
	return arts
}

// apply carries out a plan with its builds: it swaps one function at a
// time and says what it did.
func (i *Instance) apply(ctx context.Context, cur *site.Site, steps []step, arts []build.Artifact) {
	i.site = cur
	defer i.afterReload()
	if len(steps) == 0 {
		return
	}
	i.env = cur.WorkerEnv(i.URL)
	if i.tools.hosts != nil {
		i.tools.hosts.SetEnv(i.env)
	}
	for k, st := range steps {
		if st.kind == stepRemove {
			i.remove(st.fn.Name)
			i.p.Notice("Removed function "+st.fn.Name, "")
			continue
		}
		i.applyStep(ctx, st, arts[k])
	}
}

// applyStep swaps one function to its new build and prints its line.
func (i *Instance) applyStep(ctx context.Context, st step, art build.Artifact) {
	name := st.fn.Name
	prev := i.arts[name]
	i.arts[name] = art
	added := st.kind == stepAdd
	if art.Err != nil {
		// Show a build error once, not on every save that keeps it.
		if added || prev.Err == nil || prev.Err.Detail() != art.Err.Detail() {
			i.p.BuildError(name, art.Err.Detail(), art.Duration, true)
		}
	} else if added || !slices.Equal(prev.Warnings, art.Warnings) {
		i.p.Warnings(name, messages(art.Warnings))
	}
	i.swap(ctx, st.fn, art, !added)
	i.noteNativeAddon(name, prev, art)
	switch {
	case art.Err != nil:
	case added:
		i.p.Loaded(name, art.Duration, string(st.fn.Kind), i.URL+"/.netlify/functions/"+name)
	case st.kind == stepRebuild:
		i.p.Reloaded(name, art.Duration, st.why)
	default:
		i.p.Restarted(name, st.why)
	}
}

// afterReload lines up the prefixes and points the watcher at the inputs
// of the builds now served.
func (i *Instance) afterReload() {
	i.p.SetNames(i.site.Names())
	if i.w != nil {
		i.setWatchLocked()
	}
}

// envKeysChanged names the variables whose value changed (never the
// values: they may be secrets).
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
