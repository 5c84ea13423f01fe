package dev

import (
	"context"
	"runtime/debug"
	"time"
)

// releaseMinBytes is the size of inputs above which an idle function's
// esbuild context is worth releasing: below it, esbuild's cache is small
// and the next rebuild's incremental speed is worth more.
const releaseMinBytes = 1 << 20

// releaseLoop releases the esbuild contexts of functions not rebuilt for
// the idle timeout (the knob that also stops idle instances), so a site
// with a few large dependencies does not hold their parsed form for the
// whole session, and gives the memory back to the system.
func (i *Instance) releaseLoop(ctx context.Context) error {
	idle := i.tools.budget.IdleTimeout
	if idle <= 0 {
		return nil
	}
	t := time.NewTicker(min(max(idle/4, time.Second), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if i.tools.js.ReleaseIdle(idle, releaseMinBytes) > 0 {
				debug.FreeOSMemory()
			}
		}
	}
}
