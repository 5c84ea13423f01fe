package dev

import (
	"context"
	"time"

	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/schedule"
)

// cronLoop fires scheduled functions on their schedule (UTC), as Netlify's
// scheduler would, until ctx ends. With now, each fires once at start-up
// too, so a test or a developer need not wait for the next tick.
func (i *Instance) cronLoop(ctx context.Context, now bool) error {
	if now {
		for _, fn := range i.scheduled() {
			i.fire(fn)
		}
	}
	for {
		// Wake at the next tick of any schedule; reloads may change them,
		// so recompute after each wake.
		var next time.Time
		due := map[string]bool{}
		t0 := time.Now()
		for _, fn := range i.scheduled() {
			sch, err := schedule.Parse(fn.Schedule)
			if err != nil {
				continue
			}
			t := sch.Next(t0)
			if t.IsZero() {
				continue
			}
			switch {
			case next.IsZero() || t.Before(next):
				next = t
				due = map[string]bool{fn.Name: true}
			case t.Equal(next):
				due[fn.Name] = true
			}
		}
		wait := time.Minute
		if !next.IsZero() {
			wait = time.Until(next)
		}
		// Re-check at least every minute: functions come and go on reload.
		timer := time.NewTimer(min(wait, time.Minute))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		if next.IsZero() || time.Now().Before(next) {
			continue
		}
		for _, fn := range i.scheduled() {
			if due[fn.Name] {
				i.fire(fn)
			}
		}
	}
}

func (i *Instance) scheduled() []discover.Function {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []discover.Function
	for _, fn := range i.site.Functions {
		if fn.Kind == discover.KindScheduled && fn.ConfigError == "" && fn.Invalid == "" {
			out = append(out, fn)
		}
	}
	return out
}

// fire runs one scheduled invocation, owned by the instance's tasks, and
// prints "⏰ NAME fired (next run 12:00 UTC)".
func (i *Instance) fire(fn discover.Function) {
	next := ""
	if sch, err := schedule.Parse(fn.Schedule); err == nil {
		if t := sch.Next(time.Now()); !t.IsZero() {
			next = t.UTC().Format("15:04") + " UTC"
			if time.Until(t) > 24*time.Hour {
				next = t.UTC().Format("Jan 2 15:04") + " UTC"
			}
		}
	}
	i.p.Fired(fn.Name, next)
	i.tasks.Go(func() { i.srv.Fire(fn.Name) })
}
