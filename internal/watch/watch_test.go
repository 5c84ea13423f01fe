package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests use a real temporary folder and real fsnotify events, with
// short quiet periods. They wait on batches with deadlines, never on sleeps.

const (
	testQuiet = 50 * time.Millisecond
	eventWait = 5 * time.Second // how long a change may take to be reported
)

// run starts w until the test ends and returns a collector of its batches.
func run(t *testing.T, w *Watcher) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	c := &collector{}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-w.Batches():
				c.add(b.Paths)
			}
		}
	})
	// Run must return once its context ends: no goroutine outlives the test.
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return c
}

type collector struct {
	mu      sync.Mutex
	batches [][]string
}

func (c *collector) add(b []string) {
	c.mu.Lock()
	c.batches = append(c.batches, b)
	c.mu.Unlock()
}

func (c *collector) get() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

func (c *collector) seen(p string) bool {
	for _, b := range c.get() {
		if slices.Contains(b, p) {
			return true
		}
	}
	return false
}

// waitFor waits until every path in want has been reported.
func (c *collector) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		missing := slices.DeleteFunc(slices.Clone(want), c.seen)
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reported within %v: %v; batches: %v", eventWait, missing, c.get())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until no batch has arrived for a while, so a test can count
// batches. The bound is how long the debouncer may hold a burst.
func (c *collector) settle(quiet time.Duration) [][]string {
	n := len(c.get())
	for {
		time.Sleep(quiet)
		m := len(c.get())
		if m == n {
			return c.get()
		}
		n = m
	}
}

func newWatcher(t *testing.T, opts Options) *Watcher {
	t.Helper()
	w, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

func write(t *testing.T, p, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tempDir is t.TempDir with symlinks resolved, as fsnotify reports paths.
func tempDir(t *testing.T) string {
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWatchTree(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the tree before watching starts.
		setup func(t *testing.T, tree string)
		// change makes the change and returns the paths to be reported.
		change func(t *testing.T, tree string) []string
	}{
		{
			name: "write a file",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "hello.js"), "v1")
			},
			change: func(t *testing.T, tree string) []string {
				p := filepath.Join(tree, "hello.js")
				write(t, p, "v2")
				return []string{p}
			},
		},
		{
			name: "create a file",
			change: func(t *testing.T, tree string) []string {
				p := filepath.Join(tree, "new.ts")
				write(t, p, "export default () => {}")
				return []string{p}
			},
		},
		{
			name: "remove a file",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "old.js"), "x")
			},
			change: func(t *testing.T, tree string) []string {
				p := filepath.Join(tree, "old.js")
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				return []string{p}
			},
		},
		{
			name: "write in an existing sub-folder",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "a", "b", "index.js"), "v1")
			},
			change: func(t *testing.T, tree string) []string {
				p := filepath.Join(tree, "a", "b", "index.js")
				write(t, p, "v2")
				return []string{p}
			},
		},
		{
			name: "folder moved in",
			change: func(t *testing.T, tree string) []string {
				outside := filepath.Join(filepath.Dir(tree), "staging")
				write(t, filepath.Join(outside, "index.js"), "v1")
				moved := filepath.Join(tree, "moved")
				if err := os.Rename(outside, moved); err != nil {
					t.Fatal(err)
				}
				return []string{moved}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tempDir(t)
			tree := filepath.Join(root, "functions")
			if err := os.Mkdir(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, tree)
			}
			w := newWatcher(t, Options{Quiet: testQuiet})
			w.Set([]string{tree}, nil)
			c := run(t, w)
			want := tt.change(t, tree)
			c.waitFor(t, want...)
			for _, b := range c.get() {
				if !slices.IsSorted(b) || len(slices.Compact(slices.Clone(b))) != len(b) {
					t.Errorf("batch %v is not sorted and without duplicates", b)
				}
			}
		})
	}
}

func TestWatchFilesInNewFolderWhileBusy(t *testing.T) {
	// A folder and its files can appear before the watcher has handled the
	// folder's Create event (mkdir -p && cp, git checkout, a busy machine):
	// the files must still be reported. Holding w.mu makes the watcher's
	// goroutine late on purpose, so this does not depend on timing.
	tests := []struct {
		name   string
		create func(t *testing.T, tree string) (dir string, files []string)
	}{
		{"one folder", func(t *testing.T, tree string) (string, []string) {
			dir := filepath.Join(tree, "fresh")
			p := filepath.Join(dir, "index.mjs")
			write(t, p, "export const handler = 1")
			return dir, []string{p}
		}},
		{"nested folders", func(t *testing.T, tree string) (string, []string) {
			dir := filepath.Join(tree, "a")
			p, q := filepath.Join(dir, "a.js"), filepath.Join(dir, "b", "c", "c.js")
			write(t, p, "1")
			write(t, q, "2")
			return dir, []string{p, q}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := filepath.Join(tempDir(t), "functions")
			if err := os.Mkdir(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			w := newWatcher(t, Options{Quiet: testQuiet})
			w.Set([]string{tree}, nil)
			c := run(t, w)
			w.mu.Lock()
			dir, files := tt.create(t, tree)
			w.mu.Unlock()
			c.waitFor(t, append([]string{dir}, files...)...)
		})
	}
}

func TestWatchNewFolderIsWatched(t *testing.T) {
	// Once a new folder has been reported, changes inside it are too.
	tests := []struct {
		name   string
		create func(t *testing.T, tree string) string
	}{
		{"mkdir", func(t *testing.T, tree string) string {
			dir := filepath.Join(tree, "fresh")
			if err := os.MkdirAll(filepath.Join(dir, "deep"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"moved in", func(t *testing.T, tree string) string {
			outside := filepath.Join(filepath.Dir(tree), "staging")
			write(t, filepath.Join(outside, "deep", "index.js"), "v1")
			dir := filepath.Join(tree, "moved")
			if err := os.Rename(outside, dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := filepath.Join(tempDir(t), "functions")
			if err := os.Mkdir(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			w := newWatcher(t, Options{Quiet: testQuiet})
			w.Set([]string{tree}, nil)
			c := run(t, w)
			dir := tt.create(t, tree)
			c.waitFor(t, dir)
			for i, p := range []string{filepath.Join(dir, "index.js"), filepath.Join(dir, "deep", "index.js")} {
				write(t, p, fmt.Sprint("v", i+2))
				c.waitFor(t, p)
			}
		})
	}
}

func TestWatchFileSavedByRename(t *testing.T) {
	// netlify.toml lives outside any watched tree; editors save it by
	// writing a temporary file and renaming it over the original.
	tests := []struct {
		name string
		save func(t *testing.T, target string)
	}{
		{"rename over", func(t *testing.T, target string) {
			tmp := target + ".tmp~"
			write(t, tmp, "[build]\nfunctions = \"fns\"\n")
			if err := os.Rename(tmp, target); err != nil {
				t.Fatal(err)
			}
		}},
		{"write in place", func(t *testing.T, target string) {
			write(t, target, "[build]\nfunctions = \"other\"\n")
		}},
		{"delete then create", func(t *testing.T, target string) {
			if err := os.Remove(target); err != nil {
				t.Fatal(err)
			}
			write(t, target, "[build]\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := tempDir(t)
			target := filepath.Join(site, "netlify.toml")
			write(t, target, "[build]\n")
			tree := filepath.Join(site, "netlify", "functions")
			if err := os.MkdirAll(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			w := newWatcher(t, Options{Quiet: testQuiet})
			w.Set([]string{tree}, []string{target})
			c := run(t, w)
			tt.save(t, target)
			c.waitFor(t, target)
			// The temporary file and unrelated neighbours are not reported.
			write(t, filepath.Join(site, "README.md"), "unrelated")
			sentinel := filepath.Join(tree, "sentinel.js")
			write(t, sentinel, "x")
			c.waitFor(t, sentinel)
			for _, b := range c.get() {
				for _, p := range b {
					if p != target && p != sentinel {
						t.Errorf("reported %s, want only %s and %s", p, target, sentinel)
					}
				}
			}
		})
	}
}

func TestWatchBurstIsDebounced(t *testing.T) {
	tree := filepath.Join(tempDir(t), "functions")
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(t, Options{Quiet: testQuiet, MaxWait: 2 * time.Second})
	w.Set([]string{tree}, nil)
	c := run(t, w)
	var want []string
	for i := range 200 {
		p := filepath.Join(tree, fmt.Sprintf("f%03d.js", i))
		want = append(want, p)
		write(t, p, fmt.Sprint("file ", i))
	}
	c.waitFor(t, want...)
	batches := c.settle(4 * testQuiet)
	if n := len(batches); n < 1 || n > 3 {
		sizes := make([]int, n)
		for i, b := range batches {
			sizes[i] = len(b)
		}
		t.Errorf("200 writes gave %d batches of sizes %v, want 1 to 3", n, sizes)
	}
	seen := map[string]int{}
	for _, b := range batches {
		for _, p := range b {
			seen[p]++
		}
	}
	for _, p := range want {
		if seen[p] == 0 {
			t.Errorf("%s not reported", p)
		}
	}
}

func TestWatchIgnoresDependencyFolders(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, tree string) // before watching
		noise func(t *testing.T, tree string) // changes never reported
	}{
		{
			name: "existing node_modules",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "node_modules", "dep", "index.js"), "v1")
			},
			noise: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "node_modules", "dep", "index.js"), "v2")
				write(t, filepath.Join(tree, "node_modules", "dep", "new.js"), "v1")
				write(t, filepath.Join(tree, "node_modules", "other", "index.js"), "v1")
			},
		},
		{
			name: "new node_modules",
			noise: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "node_modules", "dep", "index.js"), "v1")
				write(t, filepath.Join(tree, "node_modules", "dep", "more.js"), "v1")
			},
		},
		{
			name: "nested node_modules",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "fn", "node_modules", "dep", "index.js"), "v1")
			},
			noise: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, "fn", "node_modules", "dep", "index.js"), "v2")
			},
		},
		{
			name: "existing .netlify",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, ".netlify", "bgfn", "functions", "fn.mjs"), "v1")
			},
			noise: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, ".netlify", "bgfn", "functions", "fn.mjs"), "v2")
				write(t, filepath.Join(tree, ".netlify", "state.json"), "{}")
			},
		},
		{
			name: "new .netlify",
			noise: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, ".netlify", "bgfn", "functions", "fn.mjs"), "v1")
				write(t, filepath.Join(tree, ".netlify", "bgfn", "functions", "fn.mjs.map"), "v1")
			},
		},
		{
			name: ".git",
			setup: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, ".git", "HEAD"), "ref: refs/heads/main")
			},
			noise: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, ".git", "HEAD"), "ref: refs/heads/other")
				write(t, filepath.Join(tree, ".git", "index"), "x")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := filepath.Join(tempDir(t), "site")
			if err := os.Mkdir(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, tree)
			}
			w := newWatcher(t, Options{Quiet: testQuiet})
			w.Set([]string{tree}, nil)
			c := run(t, w)
			tt.noise(t, tree)
			// Events arrive in order: once a later change is reported, the
			// noise would have been too.
			sentinel := filepath.Join(tree, "sentinel.js")
			write(t, sentinel, "x")
			c.waitFor(t, sentinel)
			for _, b := range c.get() {
				for _, p := range b {
					if p != sentinel {
						t.Errorf("reported %s, want only %s", p, sentinel)
					}
				}
			}
		})
	}
}

func TestWatchSetReplaces(t *testing.T) {
	root := tempDir(t)
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := newWatcher(t, Options{Quiet: testQuiet})
	w.Set([]string{a}, nil)
	c := run(t, w)
	w.Set([]string{b}, nil)
	write(t, filepath.Join(a, "old.js"), "x")
	sentinel := filepath.Join(b, "new.js")
	write(t, sentinel, "x")
	c.waitFor(t, sentinel)
	if c.seen(filepath.Join(a, "old.js")) {
		t.Errorf("a change in a tree no longer watched was reported: %v", c.get())
	}
}

func TestWatchPoll(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, tree, file string) string
	}{
		{"new file in tree", func(t *testing.T, tree, file string) string {
			p := filepath.Join(tree, "sub", "new.js")
			write(t, p, "x")
			return p
		}},
		{"edit file in tree", func(t *testing.T, tree, file string) string {
			p := filepath.Join(tree, "existing.js")
			write(t, p, "v1 is longer")
			return p
		}},
		{"remove file in tree", func(t *testing.T, tree, file string) string {
			p := filepath.Join(tree, "existing.js")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"edit single file", func(t *testing.T, tree, file string) string {
			write(t, file, "v1 is longer")
			return file
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := tempDir(t)
			tree := filepath.Join(site, "functions")
			write(t, filepath.Join(tree, "existing.js"), "v0")
			if err := os.Mkdir(filepath.Join(tree, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(site, "netlify.toml")
			write(t, file, "v0")
			dep := filepath.Join(tree, "node_modules", "dep.js")
			write(t, dep, "v0")
			const interval = 20 * time.Millisecond
			w := newWatcher(t, Options{Poll: true, PollInterval: interval})
			w.Set([]string{tree}, []string{file})
			c := run(t, w)
			// Run takes its first snapshot at a moment the test cannot see:
			// touch a file until a change to it is reported, then the
			// watcher is surely polling.
			prime := filepath.Join(tree, "prime.js")
			deadline := time.Now().Add(eventWait)
			for i := 0; !c.seen(prime); i++ {
				if time.Now().After(deadline) {
					t.Fatalf("poll never reported %s; batches %v", prime, c.get())
				}
				write(t, prime, strings.Repeat("x", i+1))
				time.Sleep(interval)
			}
			want := tt.change(t, tree, file)
			write(t, dep, "v1 is longer")
			c.waitFor(t, want)
			sentinel := filepath.Join(tree, "sentinel.js")
			write(t, sentinel, "x")
			c.waitFor(t, sentinel)
			for _, b := range c.get() {
				if slices.Contains(b, dep) {
					t.Errorf("poll reported a change in node_modules: %v", b)
				}
			}
		})
	}
}

func TestWatchConfirm(t *testing.T) {
	const settle = 100 * time.Millisecond
	tests := []struct {
		name string
		// after runs once the batch of a.js is delivered, before Confirm.
		after  func(t *testing.T, a, b string)
		want   bool
		minAge time.Duration // Confirm returns no sooner than this after the write
	}{
		{name: "quiet after the batch", after: func(*testing.T, string, string) {}, want: true, minAge: settle},
		{name: "the same file again", after: func(t *testing.T, a, _ string) { write(t, a, "two") }, want: false},
		{name: "another file", after: func(t *testing.T, _, b string) { write(t, b, "other") }, want: true, minAge: settle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := filepath.Join(tempDir(t), "functions")
			if err := os.Mkdir(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			a, b := filepath.Join(tree, "a.js"), filepath.Join(tree, "b.js")
			w := newWatcher(t, Options{Quiet: 5 * time.Millisecond, Settle: settle})
			w.Set([]string{tree}, nil)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				w.Run(ctx)
			}()
			t.Cleanup(func() {
				cancel()
				<-done
			})
			wrote := time.Now()
			write(t, a, "one")
			var batch Batch
			select {
			case batch = <-w.Batches():
			case <-time.After(eventWait):
				t.Fatal("no batch for a.js")
			}
			if !slices.Contains(batch.Paths, a) {
				t.Fatalf("batch %v lacks %s", batch.Paths, a)
			}
			tt.after(t, a, b)
			if tt.want == false {
				// Wait until the watcher has seen the second write: Confirm
				// reads what it has seen.
				deadline := time.Now().Add(eventWait)
				for {
					w.mu.Lock()
					seen := w.touched[a].After(batch.At)
					w.mu.Unlock()
					if seen || time.Now().After(deadline) {
						break
					}
					time.Sleep(time.Millisecond)
				}
			}
			got := w.Confirm(t.Context(), batch)
			if got != tt.want {
				t.Errorf("Confirm = %v, want %v", got, tt.want)
			}
			if age := time.Since(wrote); age < tt.minAge {
				t.Errorf("Confirm returned %v after the write, want no sooner than %v", age, tt.minAge)
			}
		})
	}
}
