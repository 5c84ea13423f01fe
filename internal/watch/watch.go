package watch

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure a Watcher.
type Options struct {
	// Quiet is how long no event must arrive before a batch is delivered
	// (default DefaultQuiet).
	Quiet time.Duration
	// Settle is how long a batch's files must then stay unchanged for
	// Confirm to say a build made from them holds (default DefaultSettle).
	Settle time.Duration
	// MaxWait bounds how long a batch can be held back by a steady stream
	// of events.
	MaxWait time.Duration
	// Poll stats files every PollInterval instead of using fsnotify.
	Poll         bool
	PollInterval time.Duration
}

// DefaultQuiet and DefaultSettle are the defaults of Options.Quiet and
// Options.Settle. A save reaches the watcher as a burst of events well
// under a millisecond apart (an editor writes a source file with one
// write, or writes a temporary file and renames it; inotify hands the
// events of one save over together). A batch goes out after 250 µs of
// quiet, so the build starts at once (1 ms cost a reload 0.7 ms more,
// and in 20 edits 250 µs never split a save in two); 5 ms without another
// change to its files, checked by Confirm once the build is done, closes
// the burst. Both are in the reload latency (edit → new body), which
// issue 19 holds to 18 ms for JS: this way they overlap with the build.
// An editor that truncates the file and pauses before writing it hands
// bgfn an empty entry first, which the reload skips as a save in progress.
const (
	DefaultQuiet  = 250 * time.Microsecond
	DefaultSettle = 5 * time.Millisecond
)

// Batch is a set of changed paths, sorted and without duplicates, and
// when the watcher cut it.
type Batch struct {
	Paths []string
	At    time.Time
}

// skipDir names folders never watched inside a tree.
func skipDir(name string) bool {
	return name == "node_modules" || name == ".git" || name == ".netlify"
}

// Watcher watches trees and files and sends batches of changed paths.
type Watcher struct {
	opts Options

	mu    sync.Mutex
	trees []string        // absolute roots watched recursively
	files map[string]bool // absolute files watched by name
	dirs  map[string]bool // folders added to fsnotify

	touched map[string]time.Time // when each path last changed (fsnotify)

	fsw     *fsnotify.Watcher
	batches chan Batch
	errs    chan error
}

// New returns a watcher. Call Set to say what to watch and Run to start.
func New(opts Options) (*Watcher, error) {
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.Settle <= 0 {
		opts.Settle = DefaultSettle
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 500 * time.Millisecond
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 300 * time.Millisecond
	}
	w := &Watcher{opts: opts, files: map[string]bool{}, dirs: map[string]bool{}, touched: map[string]time.Time{}, batches: make(chan Batch, 1), errs: make(chan error, 1)}
	if !opts.Poll {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			return nil, err
		}
		w.fsw = fsw
	}
	return w, nil
}

// Batches delivers the batches of changed paths.
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// Confirm waits until none of b's files has changed for Settle, then
// reports whether none changed after b was cut either: a build made from
// b saw the files as they are. False means a later batch brings them
// again. It is true at once for paths the watcher saw no event for
// (polling, a tree after an overflow).
func (w *Watcher) Confirm(ctx context.Context, b Batch) bool {
	for {
		var last time.Time
		w.mu.Lock()
		for _, p := range b.Paths {
			if t := w.touched[p]; t.After(last) {
				last = t
			}
		}
		w.mu.Unlock()
		if last.After(b.At) {
			return false
		}
		wait := time.Until(last.Add(w.opts.Settle))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// touch notes that p changed now.
func (w *Watcher) touch(p string) {
	w.mu.Lock()
	w.touched[p] = time.Now()
	w.mu.Unlock()
}

// Set replaces what is watched: trees recursively, files by name.
func (w *Watcher) Set(trees, files []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trees = nil
	for _, t := range trees {
		w.trees = append(w.trees, filepath.Clean(t))
	}
	w.files = map[string]bool{}
	want := map[string]bool{}
	for _, f := range files {
		f = filepath.Clean(f)
		w.files[f] = true
		want[filepath.Dir(f)] = true
	}
	for _, t := range w.trees {
		filepath.WalkDir(t, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != t && skipDir(d.Name()) {
					return filepath.SkipDir
				}
				want[p] = true
			}
			return nil
		})
		// Watch the tree's parent too, so the tree being created or
		// replaced is seen.
		want[filepath.Dir(t)] = true
	}
	if w.fsw == nil {
		w.dirs = want
		return
	}
	for d := range w.dirs {
		if !want[d] {
			w.fsw.Remove(d)
			delete(w.dirs, d)
		}
	}
	for d := range want {
		if !w.dirs[d] {
			if w.fsw.Add(d) == nil {
				w.dirs[d] = true
			}
		}
	}
}

// relevant reports whether a change to p matters.
func (w *Watcher) relevant(p string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.files[p] {
		return true
	}
	for _, t := range w.trees {
		if p == t {
			return true
		}
		if rel, ok := strings.CutPrefix(p, t+string(filepath.Separator)); ok {
			for _, part := range strings.Split(rel, string(filepath.Separator)) {
				if skipDir(part) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// addTree starts watching a folder created inside a watched tree, and
// returns the files already in it: they may have been written before the
// watch was in place, so no event would tell of them.
func (w *Watcher) addTree(p string) []string {
	if w.fsw == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var files []string
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			files = append(files, q)
			return nil
		}
		if q != p && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if !w.dirs[q] && w.fsw.Add(q) == nil {
			w.dirs[q] = true
		}
		return nil
	})
	return files
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	if w.fsw != nil {
		defer w.fsw.Close()
		return w.runNotify(ctx)
	}
	return w.runPoll(ctx)
}

func (w *Watcher) runNotify(ctx context.Context) error {
	pending := map[string]bool{}
	var quiet, maxWait <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil
			}
			p := filepath.Clean(ev.Name)
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(p); err == nil && fi.IsDir() && w.relevant(p) {
					for _, f := range w.addTree(p) {
						pending[f] = true
					}
				}
			}
			if ev.Op == fsnotify.Chmod || !w.relevant(p) {
				continue
			}
			pending[p] = true
			w.touch(p)
			quiet = time.After(w.opts.Quiet)
			if maxWait == nil {
				maxWait = time.After(w.opts.MaxWait)
			}
		case <-w.fsw.Errors:
			// Overflow and similar: treat as "something changed".
			w.mu.Lock()
			for _, t := range w.trees {
				pending[t] = true
			}
			w.mu.Unlock()
			quiet = time.After(w.opts.Quiet)
		case <-quiet:
			w.flush(ctx, pending)
			pending = map[string]bool{}
			quiet, maxWait = nil, nil
		case <-maxWait:
			w.flush(ctx, pending)
			pending = map[string]bool{}
			quiet, maxWait = nil, nil
		}
	}
}

func (w *Watcher) flush(ctx context.Context, pending map[string]bool) {
	if len(pending) == 0 {
		return
	}
	batch := make([]string, 0, len(pending))
	for p := range pending {
		batch = append(batch, p)
	}
	sort.Strings(batch)
	now := time.Now()
	w.mu.Lock()
	for p, t := range w.touched {
		if now.Sub(t) > time.Minute {
			delete(w.touched, p)
		}
	}
	w.mu.Unlock()
	select {
	case w.batches <- Batch{Paths: batch, At: now}:
	case <-ctx.Done():
	}
}

type stamp struct {
	mod  time.Time
	size int64
}

func (w *Watcher) snapshot() map[string]stamp {
	w.mu.Lock()
	trees := append([]string(nil), w.trees...)
	files := make([]string, 0, len(w.files))
	for f := range w.files {
		files = append(files, f)
	}
	w.mu.Unlock()
	out := map[string]stamp{}
	for _, t := range trees {
		filepath.WalkDir(t, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p != t && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			if fi, err := d.Info(); err == nil {
				out[p] = stamp{fi.ModTime(), fi.Size()}
			}
			return nil
		})
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			out[f] = stamp{fi.ModTime(), fi.Size()}
		}
	}
	return out
}

func (w *Watcher) runPoll(ctx context.Context) error {
	prev := w.snapshot()
	tick := time.NewTicker(w.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		cur := w.snapshot()
		changed := map[string]bool{}
		for p, s := range cur {
			if o, ok := prev[p]; !ok || o != s {
				changed[p] = true
			}
		}
		for p := range prev {
			if _, ok := cur[p]; !ok {
				changed[p] = true
			}
		}
		prev = cur
		w.flush(ctx, changed)
	}
}
