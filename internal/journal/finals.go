package journal

import "time"

// Held final lines (issue 19, target 4). With Options.BeforeFinal the
// journal may only forget a run once its record is durable elsewhere,
// and BeforeFinal is an fsync of a file that grows (the invocation
// history): measured under load, up to half a second. Run by the
// committer, every batch of accepts that came in meanwhile waited for it.
// So the finalizer goroutine does it: it takes the held final lines at
// most every finalEvery, runs BeforeFinal, and hands them to the
// committer as ready lines, which go out with the next batch with no
// fsync of their own and nothing waiting for them. Nothing follows a
// (non-interrupted) final line for its run, so it may go out after lines
// written later. What the committer still runs BeforeFinal for itself:
// interrupted finals (they keep their place), a compaction (it drops the
// ended runs, held ones included) and the last batch at Close.

// kickFinals wakes the finalizer, unless it is already due to run.
func (j *Journal) kickFinals() {
	select {
	case j.finKick <- struct{}{}:
	default:
	}
}

// finalLoop runs BeforeFinal for the held final lines, off the committer,
// until finStop is closed.
func (j *Journal) finalLoop() {
	defer close(j.finDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-j.finStop:
			return
		case <-j.finKick:
		}
		j.mu.Lock()
		wait := finalEvery - time.Since(j.lastFinal)
		j.mu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-j.finStop:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		j.readyHeld()
	}
}

// readyHeld takes the held final lines, runs BeforeFinal, and gives them
// to the committer.
func (j *Journal) readyHeld() {
	j.mu.Lock()
	lines := j.held
	j.held = nil
	j.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	// A failure here is the history's: the runs still end.
	j.beforeFinal()
	j.mu.Lock()
	j.lastFinal = time.Now()
	j.ready = append(j.ready, lines...)
	if !j.closed {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	j.mu.Unlock()
}
