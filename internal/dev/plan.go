package dev

import (
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// stepKind says what a reload does to one function.
type stepKind int

const (
	// stepAdd builds a new function and serves it.
	stepAdd stepKind = iota
	// stepRebuild builds a function again (its inputs or its configuration
	// changed) and moves its traffic to the new build.
	stepRebuild
	// stepRestart starts new workers for the same build (the environment
	// changed).
	stepRestart
	// stepRemove stops serving a function that is gone.
	stepRemove
)

func (k stepKind) String() string {
	return [...]string{"add", "rebuild", "restart", "remove"}[k]
}

// step is one thing a reload does.
type step struct {
	kind stepKind
	// fn is the function as discovered now; for a remove only its Name is
	// set.
	fn discover.Function
	// why is what the reload line says: "changed: lib/msg.js",
	// "netlify.toml changed", "environment changed".
	why string
}

// planInput is everything a reload decides from.
type planInput struct {
	// old is the site as it was served; cur as it is now (with the new
	// configuration, or the old one when the new one does not load).
	old, cur *site.Site
	// arts are the builds the old functions run, with their inputs.
	arts map[string]build.Artifact
	// changed holds the absolute paths of the files that changed.
	changed map[string]bool
	// empty names functions whose entry file is empty now: an editor that
	// rewrites in place truncates first, and the write that follows brings
	// the next batch.
	empty map[string]bool
}

// plan decides what a batch of changed files does to the functions: which
// to add, rebuild, restart or remove, in name order (removes last). It
// reads nothing but its input.
func plan(in planInput) []step {
	oldCfg, curCfg := in.old.Config, in.cur.Config
	envChanged := !maps.Equal(oldCfg.Env, curCfg.Env)
	dirChanged := oldCfg.FunctionsDir != curCfg.FunctionsDir
	old := make(map[string]discover.Function, len(in.old.Functions))
	for _, fn := range in.old.Functions {
		old[fn.Name] = fn
	}
	var steps []step
	for _, fn := range in.cur.Functions {
		prev, existed := old[fn.Name]
		art := in.arts[fn.Name]
		switch {
		case existed && in.empty[fn.Name]:
			// A save in progress.
		case !existed:
			steps = append(steps, step{kind: stepAdd, fn: fn})
		case dirChanged || prev.Entry != fn.Entry || prev.Runtime != fn.Runtime ||
			settingsChanged(oldCfg, curCfg, fn.Name) || !sameConfig(prev, fn):
			steps = append(steps, step{kind: stepRebuild, fn: fn, why: "netlify.toml changed"})
		default:
			hit := touched(art.Inputs, in.changed, curCfg.BaseDir)
			if hit == "" && art.Err != nil && touchedDir(in.changed, curCfg.FunctionsDir) {
				hit = "retry after build error"
			}
			switch {
			case hit != "":
				steps = append(steps, step{kind: stepRebuild, fn: fn, why: "changed: " + hit})
			case envChanged:
				steps = append(steps, step{kind: stepRestart, fn: fn, why: "environment changed"})
			}
		}
	}
	var removed []string
	for name := range old {
		if !slices.ContainsFunc(in.cur.Functions, func(f discover.Function) bool { return f.Name == name }) {
			removed = append(removed, name)
		}
	}
	sort.Strings(removed)
	for _, name := range removed {
		steps = append(steps, step{kind: stepRemove, fn: discover.Function{Name: name}})
	}
	return steps
}

// settingsChanged reports whether netlify.toml changed what it says about
// the function name.
func settingsChanged(a, b *config.Config, name string) bool {
	if a == b {
		return false
	}
	x, y := a.Functions.For(name), b.Functions.For(name)
	return !slices.Equal(x.ExternalNodeModules, y.ExternalNodeModules) || x.Schedule != y.Schedule ||
		(x.Background == nil) != (y.Background == nil) || (x.Background != nil && *x.Background != *y.Background)
}

// sameConfig reports whether two discoveries of a function agree on what
// its source declares (routes, schedule, kind, errors).
func sameConfig(a, b discover.Function) bool {
	return a.Kind == b.Kind && a.Schedule == b.Schedule && a.ConfigError == b.ConfigError && a.PreferStatic == b.PreferStatic &&
		slices.Equal(a.Paths, b.Paths) && slices.Equal(a.ExcludedPaths, b.ExcludedPaths) && slices.Equal(a.Methods, b.Methods)
}

// touched returns the first input of a function that changed, relative to
// base, or "".
func touched(inputs []string, changed map[string]bool, base string) string {
	for _, in := range inputs {
		if changed[in] {
			return site.Rel(base, in)
		}
	}
	return ""
}

// touchedDir reports whether anything under dir changed.
func touchedDir(changed map[string]bool, dir string) bool {
	for p := range changed {
		if strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
