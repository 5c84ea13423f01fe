package dev

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/bgfn-dev/bgfn/internal/journal"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
)

// The background journal (issue 16): opened before the queue, read back
// into records of the runs the last bgfn left unfinished, closed after
// the queue at shutdown. The journal itself and what it means to resume
// live in packages journal and background; this is only the wiring.

// JournalFile is the background journal's name in the site's build folder.
const JournalFile = "journal.jsonl"

// openJournal opens the site's journal, unless this instance serves a
// standalone invoke (which waits for its one run). A journal another bgfn
// dev holds is not shared: this instance runs without one and says so.
func (i *Instance) openJournal() (*journal.Journal, *journal.Recovery, error) {
	if i.opts.Standalone {
		return nil, nil, nil
	}
	j, rec, err := journal.Open(filepath.Join(i.site.OutDir(), JournalFile), journal.Options{MaxSize: i.opts.JournalMaxSize, BeforeFinal: i.store.Sync})
	var le *journal.LockedError
	if errors.As(err, &le) {
		i.p.Warning(le.Error() + ": this bgfn dev journals no background runs (a kill would lose them); stop the other one to journal them")
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, w := range rec.Warnings {
		i.p.Warning(w)
	}
	return j, rec, nil
}

// recoverRuns records what the journal found unfinished as interrupted,
// for the banner.
func (i *Instance) recoverRuns(rec *journal.Recovery) {
	if rec == nil {
		return
	}
	i.recovered = i.queue.Recover(rec.Unfinished)
}

// bannerRuns describes the recovered runs for the banner.
func (i *Instance) bannerRuns(b *logs.Banner) {
	for _, r := range i.recovered {
		v := r.View()
		state := "while queued"
		if n := len(v.Attempts); n > 0 {
			a := v.Attempts[n-1]
			state = fmt.Sprintf("waiting for its retry after attempt %d/%d %s", n, v.MaxAttempts, a.Status)
			if a.Status == records.Interrupted {
				state = fmt.Sprintf("during attempt %d/%d", n, v.MaxAttempts)
			}
		}
		b.Interrupted = append(b.Interrupted, logs.BannerRun{Name: r.Function(), ID: records.ShortID(r.ID()), State: state})
	}
	b.Resumable = len(i.journal.Interrupted())
	b.Resume = i.opts.Resume
}

// resumeAtStart runs every interrupted run again (bgfn dev --resume).
func (i *Instance) resumeAtStart() {
	if !i.opts.Resume || i.journal == nil {
		return
	}
	if _, err := i.queue.Resume(); err != nil {
		i.p.Warning("resume interrupted runs: " + err.Error())
	}
}

// apiResume resumes interrupted runs for POST
// /.bgfn/api/invocations/interrupted/resume.
func (i *Instance) apiResume(ids []string) ([]*records.View, error) {
	recs, err := i.queue.Resume(ids...)
	if err != nil {
		return nil, err
	}
	out := make([]*records.View, len(recs))
	for k, r := range recs {
		out[k] = r.View()
	}
	return out, nil
}
