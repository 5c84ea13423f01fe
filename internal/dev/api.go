package dev

import (
	"context"
	"maps"
	"sort"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/events"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/schedule"
)

// What serveHTTP hands the API (issue 18): the functions and the
// configuration as the instance serves them now, and the Blobs JSON API.

// lockServing takes i.mu, waiting out a reload (which holds it while it
// builds), unless bgfn is stopping: Shutdown holds i.mu until the HTTP
// server has closed, which waits for this very request.
func (i *Instance) lockServing() bool {
	for !i.mu.TryLock() {
		select {
		case <-i.life.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

// apiFunctions describes every function for GET /.bgfn/api/functions. It
// waits for a reload under way, so it reports the builds that reload
// produced; bgfn stopping lists none.
func (i *Instance) apiFunctions() []api.Function {
	if !i.lockServing() {
		return nil
	}
	s := i.site
	arts := maps.Clone(i.arts)
	i.mu.Unlock()
	now := time.Now()
	out := make([]api.Function, 0, len(s.Functions))
	for _, fn := range s.Functions {
		f := api.Function{
			Name: fn.Name, Kind: string(fn.Kind), Runtime: string(fn.Runtime),
			Routes: fn.Paths, ExcludedRoutes: fn.ExcludedPaths, Methods: fn.Methods,
			Entry: s.EntryPath(fn), Source: s.Rel(s.EntryPath(fn)),
			Invalid: fn.Invalid, ConfigError: fn.ConfigError,
		}
		if fn.Kind == discover.KindScheduled {
			f.Schedule = fn.Schedule
			if sch, err := schedule.Parse(fn.Schedule); err == nil {
				if t := sch.Next(now); !t.IsZero() {
					t = t.UTC()
					f.NextRun = &t
				}
			}
		}
		f.Events = events.Handled(fn)
		f.Output, f.Build = buildState(arts, fn.Name)
		out = append(out, f)
	}
	return out
}

func buildState(arts map[string]build.Artifact, name string) (string, api.Build) {
	art, built := arts[name]
	switch {
	case !built:
		return "", api.Build{State: api.BuildBuilding}
	case art.Err != nil:
		return "", api.Build{State: api.BuildFailed, Error: art.Err.Detail(), DurationMs: msOf(art.Duration)}
	}
	b := api.Build{State: api.BuildOK, DurationMs: msOf(art.Duration)}
	for _, w := range art.Warnings {
		b.Warnings = append(b.Warnings, w.String())
	}
	return art.Entry, b
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// apiConfig is GET /.bgfn/api/config: the resolved configuration, the
// limits in force (the defaults server and background apply when an
// option is unset) and the flags. Env values are never included.
func (i *Instance) apiConfig() api.Config {
	if !i.lockServing() {
		return api.Config{Env: []api.EnvVar{}, Flags: api.Flags{URL: i.URL}}
	}
	cfg := i.site.Config
	warnings := append([]string(nil), i.site.Warnings...)
	watching := i.w != nil
	i.mu.Unlock()
	o := i.opts
	c := api.Config{
		Site: cfg.SiteDir, BaseDir: cfg.BaseDir, ConfigFile: cfg.ConfigFile,
		FunctionsDir: cfg.FunctionsDir, FunctionsDirSource: cfg.FunctionsDirSource,
		Env: []api.EnvVar{}, EnvFiles: cfg.EnvFiles, Warnings: warnings,
	}
	for k := range cfg.Env {
		c.Env = append(c.Env, api.EnvVar{Key: k, Source: cfg.EnvSources[k]})
	}
	sort.Slice(c.Env, func(a, b int) bool { return c.Env[a].Key < c.Env[b].Key })
	or := func(d, def time.Duration) string {
		if d <= 0 {
			d = def
		}
		return d.String()
	}
	body, bgBody := int64(6<<20), int64(256<<10)
	if o.NoLimits {
		body, bgBody = 1<<40, 1<<40
	}
	delays := []string{}
	for _, d := range []time.Duration{time.Minute, 2 * time.Minute}[:min(o.Retries, 2)] {
		delays = append(delays, scale(d, o.RetryScale).String())
	}
	c.Limits = api.Limits{
		SyncTimeout:       or(o.Timeout, 60*time.Second),
		BackgroundTimeout: or(o.BackgroundTimeout, 15*time.Minute),
		ScheduledTimeout:  or(o.ScheduledTimeout, 30*time.Second),
		InitTimeout:       or(o.InitTimeout, runtime.DefaultInitTimeout),
		SyncBodyBytes:     body, BackgroundBodyBytes: bgBody,
		MaxConcurrency: i.maxConcurrency, MaxInstances: i.tools.budget.Max,
		IdleTimeout: i.tools.budget.IdleTimeout.String(),
		Retries:     o.Retries, RetryDelays: delays,
		ShutdownTimeout: or(o.ShutdownTimeout, 10*time.Second),
		Records:         o.Records, LogRing: records.LogRingSize,
	}
	c.Flags = api.Flags{
		URL: i.URL, Standalone: o.Standalone, Only: o.Only, Watch: watching, Poll: o.Poll,
		Cron: o.Cron || o.CronNow, NoLimits: o.NoLimits, RetryScale: o.RetryScale,
	}
	return c
}

// Watch rebuilds what changes, as bgfn dev does, until ctx ends; it does
// nothing with Options.NoWatch. It is for callers of Start that serve
// longer than one call (bgfn mcp's in-process runtime); Run watches on its
// own. Cancel ctx and let Watch return before Shutdown.
func (i *Instance) Watch(ctx context.Context) error {
	if i.opts.NoWatch {
		return nil
	}
	return i.watchLoop(ctx, i.opts.Poll)
}
