package journal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// crashCopy is the crash of the journal at path: the file as it is now,
// copied to a new folder, where the next bgfn opens it.
func crashCopy(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(next, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return next
}

// TestZeroTail: a journal file whose lines are followed by zeros (the
// tail a batch overwrites) reads back up to the first NUL; a line cut by
// a crash before the zeros is a torn last line, cut off with the usual
// warning; the next bgfn writes right after the last whole line, over the
// zeros, not at the file's end, and keeps a zero tail that is not longer
// than its length.
func TestZeroTail(t *testing.T) {
	good := line(t, entry{Op: opHeader, Version: Version}) + line(t, entry{Op: opAccept, Run: run("1", 0)})
	acc2 := line(t, entry{Op: opAccept, Run: run("2", 1)})
	z := func(n int) string { return strings.Repeat("\x00", n) }
	tests := []struct {
		name        string
		content     string
		wantWarning string // "" for none
		unfinished  []string
		// resumeAt is where the next line must go: the end of the last
		// whole line.
		resumeAt int
		// keepsTail: the zeros found are kept (not cut off and written
		// again).
		keepsTail bool
	}{
		{"lines and then zeros", good + z(5000), "", []string{"1"}, len(good), true},
		{"two lines and then zeros", good + acc2 + z(5000), "", []string{"1", "2"}, len(good + acc2), true},
		{"a torn line before the zeros", good + acc2[:len(acc2)/2] + z(5000), "ignored a partial last line (" + fmt.Sprint(len(acc2)/2) + " bytes)", []string{"1"}, len(good), false},
		{"a line torn just before its newline, then zeros", good + acc2[:len(acc2)-1] + z(3), "ignored a partial last line", []string{"1"}, len(good), false},
		{"a tail longer than the read buffer", good + z(200<<10), "", []string{"1"}, len(good), true},
		{"only zeros", z(4096), "", nil, 0, true},
		{"zeros, then a line a crash left", good + z(4096) + acc2, "zeros followed by a write bgfn did not finish", []string{"1"}, len(good), false},
		{"no tail (an older bgfn's file)", good, "", []string{"1"}, len(good), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			j, rec := open(t, path, Options{tail: 1 << 20})
			checkRecovery(t, rec, path, tt.wantWarning, tt.unfinished)
			j.fmu.Lock()
			size, alloc := j.size, j.alloc
			j.fmu.Unlock()
			want := int64(tt.resumeAt)
			if tt.resumeAt == 0 {
				want = int64(len(headerLine()))
			}
			if size != want {
				t.Errorf("the next line goes at offset %d, want %d (after the last whole line)", size, want)
			}
			if tt.keepsTail && alloc < int64(len(tt.content)) {
				t.Errorf("the file was cut to %d bytes (was %d): the zeros should have been kept", alloc, len(tt.content))
			}
			if err := j.Accept(run("9", 9)); err != nil {
				t.Fatal(err)
			}
			lines, zeroTail := parts(t, path)
			if tt.resumeAt > 0 && !bytes.HasPrefix(lines, []byte(tt.content[:tt.resumeAt])) {
				t.Errorf("the lines before the resume point changed")
			}
			if rest := lines[want:]; !bytes.HasPrefix(rest, []byte(`{"op":"accept","run":{"id":"9"`)) || bytes.Count(rest, []byte("\n")) != 1 {
				t.Errorf("after the resume point the file holds %q, want the new accept line only", rest)
			}
			if zeroTail > 1<<20 && zeroTail > int64(len(tt.content)) {
				t.Errorf("%d bytes of zeros after the lines: more than one tail", zeroTail)
			}
			// A crash now, then a clean stop: both read the same runs.
			wantNext := append(slices.Clone(orEmpty(tt.unfinished)), "9")
			_, crashed := open(t, crashCopy(t, path), Options{})
			if got := ids(crashed.Unfinished); !slices.Equal(got, wantNext) || len(crashed.Warnings) > 0 {
				t.Errorf("after a crash: unfinished %v (warnings %q), want %v and no warning", got, crashed.Warnings, wantNext)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if _, zeroTail := parts(t, path); zeroTail != 0 {
				t.Errorf("Close left %d bytes of zeros", zeroTail)
			}
			_, rec2 := open(t, path, Options{})
			if got := ids(rec2.Unfinished); !slices.Equal(got, wantNext) || len(rec2.Warnings) > 0 {
				t.Errorf("after Close: unfinished %v (warnings %q), want %v and no warning", got, rec2.Warnings, wantNext)
			}
		})
	}
}

// TestCompactionZeroTail: the file a compaction writes has its zero tail
// too, no longer than one tail, mostly because it is the next file the
// extender wrote ahead (next.go); what reads it back finds the runs; the
// next file is only zeros, at most a tail of them, and is gone after
// Close, as is one a killed bgfn left.
func TestCompactionZeroTail(t *testing.T) {
	for _, tail := range []int64{4 << 10, 64 << 10} {
		t.Run(fmt.Sprint(tail), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(path+".next", []byte("left by a killed bgfn"), 0o644); err != nil {
				t.Fatal(err)
			}
			j, _ := open(t, path, Options{MaxSize: 8 << 10, tail: tail})
			var keep []string
			for i := range 300 {
				id := fmt.Sprintf("%05d", i)
				if err := j.Accept(run(id, i)); err != nil {
					t.Fatal(err)
				}
				if i%30 == 0 {
					keep = append(keep, id)
					continue
				}
				j.Final(id, records.Succeeded, t0)
			}
			// One more accept, so the finals are written.
			if err := j.Accept(run("last", 999)); err != nil {
				t.Fatal(err)
			}
			keep = append(keep, "last")
			j.mu.Lock()
			rewrites := j.rewrites
			j.mu.Unlock()
			j.fmu.Lock()
			nextUsed := j.nextUsed
			j.fmu.Unlock()
			if rewrites == 0 || nextUsed == 0 {
				t.Fatalf("%d compactions, %d of them into a next file written ahead: want some of each", rewrites, nextUsed)
			}
			lines, zeroTail := parts(t, path)
			if zeroTail == 0 || zeroTail > tail {
				t.Errorf("after %d compactions: %d bytes of zeros after %d of lines, want some and at most %d", rewrites, zeroTail, len(lines), tail)
			}
			if b, err := os.ReadFile(path + ".next"); err == nil && (int64(len(b)) > tail || bytes.ContainsFunc(b, func(r rune) bool { return r != 0 })) {
				t.Errorf("the next file holds %d bytes, not only zeros or more than a tail", len(b))
			}
			_, crashed := open(t, crashCopy(t, path), Options{})
			if got := ids(crashed.Unfinished); !slices.Equal(got, keep) || len(crashed.Warnings) > 0 {
				t.Errorf("after a crash: unfinished %v (warnings %q), want %v", got, crashed.Warnings, keep)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path + ".next"); err == nil {
				t.Error("Close left the next file behind")
			}
		})
	}
}

// TestExtendRace: many writers at once while the tail is small, so the
// extender extends the file again and again while the committer writes
// batches (run with -race): every accepted run is on disk before its
// Accept returns, no zero ever lands inside the lines, and the zeros stay
// within a tail of them.
func TestExtendRace(t *testing.T) {
	for _, maxSize := range []int64{64 << 20, 32 << 10} {
		t.Run(fmt.Sprintf("max size %d", maxSize), func(t *testing.T) { extendRace(t, maxSize) })
	}
}

// extendRace is TestExtendRace with compactions past maxSize.
func extendRace(t *testing.T, maxSize int64) {
	const tail, writers, each = 4 << 10, 50, 40
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{MaxSize: maxSize, tail: tail})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for k := range each {
				id := fmt.Sprintf("%02d-%02d", w, k)
				if err := j.Accept(run(id, w*each+k)); err != nil {
					t.Error(err)
					return
				}
				j.End(id, records.Attempt{N: 1, Status: records.Failed, StartedAt: t0})
				if k%2 == 1 {
					// Half the runs end: compactions have work to do.
					j.Final(id, records.Succeeded, t0)
				}
				if k%8 == 0 {
					// Between the lines, not after the zeros.
					b, _ := os.ReadFile(path)
					if i := bytes.IndexByte(b, 0); i >= 0 {
						b = b[:i]
					}
					if !bytes.Contains(b, []byte(`"id":"`+id+`"`)) {
						t.Errorf("Accept(%s) returned before its line was in the file, before the zeros", id)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	lines, zeroTail := parts(t, path)
	j.fmu.Lock()
	extensions, nextUsed := j.extensions, j.nextUsed
	j.fmu.Unlock()
	t.Logf("%d bytes of lines, %d of zeros, %d extensions, %d compactions into a next file", len(lines), zeroTail, extensions, nextUsed)
	if maxSize < 1<<20 && nextUsed == 0 {
		t.Errorf("no compaction used a next file")
	}
	if extensions < 2 {
		t.Errorf("%d extensions for %d bytes of lines with a %d-byte tail", extensions, len(lines), tail)
	}
	if zeroTail > tail {
		t.Errorf("%d bytes of zeros, more than the tail (%d)", zeroTail, tail)
	}
	_, rec := open(t, crashCopy(t, path), Options{})
	// The finals may not all be written yet: between half and all.
	if n := len(rec.Unfinished); n < writers*each/2 || n > writers*each || len(rec.Warnings) > 0 {
		t.Errorf("after a crash: %d unfinished runs (warnings %q), want %d to %d", n, rec.Warnings, writers*each/2, writers*each)
	}
	for _, r := range rec.Unfinished {
		// An end line is not waited for: the last ones may be missing.
		if len(r.Attempts) > 1 || len(r.Attempts) == 1 && r.Attempts[0].Status != records.Failed {
			t.Fatalf("%s came back with attempts %+v", r.ID, r.Attempts)
		}
	}
}

// TestCrashMidWrite: 50 accepts at once each return once their line is in
// the file, over the zeros; a crash in the middle of the next batch leaves
// part of a line followed by zeros. The next bgfn finds all 50, ignores
// the partial line with the torn-line warning, writes its own lines where
// the partial one began, and the one after it finds those too, with
// nothing to warn about.
func TestCrashMidWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{tail: 64 << 10})
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := j.Accept(run(fmt.Sprintf("r%02d", i), i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The crash, as the kernel left the file: part of the next batch
	// written over the zeros.
	b, err := os.ReadFile(crashCopy(t, path))
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.IndexByte(b, 0)
	if end < 0 {
		t.Fatalf("no zeros after %d bytes of lines with a tail of 64 KB", len(b))
	}
	torn := line(t, entry{Op: opAccept, Run: run("torn", 99)})
	torn = torn[:len(torn)/2]
	copy(b[end:], torn)
	next := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(next, b, 0o644); err != nil {
		t.Fatal(err)
	}
	j2, rec := open(t, next, Options{tail: 64 << 10})
	if len(rec.Unfinished) != n {
		t.Errorf("%d unfinished runs after the crash, want %d", len(rec.Unfinished), n)
	}
	if w := strings.Join(rec.Warnings, "\n"); len(rec.Warnings) != 1 || !strings.Contains(w, fmt.Sprintf("ignored a partial last line (%d bytes)", len(torn))) {
		t.Errorf("warnings %q, want the torn-line one", w)
	}
	if j2.size != int64(end) {
		t.Errorf("the next bgfn writes at %d, want %d (where the partial line began)", j2.size, end)
	}
	for _, id := range []string{"after1", "after2"} {
		if err := j2.Accept(run(id, 100)); err != nil {
			t.Fatal(err)
		}
	}
	_, rec3 := open(t, crashCopy(t, next), Options{})
	if len(rec3.Unfinished) != n+2 || len(rec3.Warnings) > 0 {
		t.Errorf("after a second crash: %d unfinished (warnings %q), want %d and no warning", len(rec3.Unfinished), rec3.Warnings, n+2)
	}
	if got := ids(rec3.Unfinished); !slices.Contains(got, "after2") || slices.Contains(got, "torn") {
		t.Errorf("unfinished %v: want after1 and after2, never torn", got)
	}
}

// TestAcceptsDoNotWaitForBeforeFinal: while BeforeFinal (the history's
// fsync) is slow, accepts still return once their line is written, and a
// final line is never written before BeforeFinal has returned for it.
func TestAcceptsDoNotWaitForBeforeFinal(t *testing.T) {
	entered, release := make(chan struct{}, 16), make(chan struct{})
	opts := Options{BeforeFinal: func() error {
		entered <- struct{}{}
		<-release
		return nil
	}}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, opts)
	if err := j.Accept(run("a", 0)); err != nil {
		t.Fatal(err)
	}
	j.Final("a", records.Succeeded, t0)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("BeforeFinal was never called for the held final")
	}
	accepted := make(chan error, 1)
	go func() { accepted <- j.Accept(run("b", 1)) }()
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Accept waited for BeforeFinal")
	}
	if lines, _ := parts(t, path); bytes.Contains(lines, []byte(`"op":"final","id":"a"`)) {
		t.Error("a's final line was written before BeforeFinal returned")
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if lines, _ := parts(t, path); bytes.Contains(lines, []byte(`"op":"final","id":"a"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a's final line never reached the file once BeforeFinal returned")
		}
		time.Sleep(5 * time.Millisecond)
	}
	j.Close()
	_, rec := open(t, path, Options{})
	if got := ids(rec.Unfinished); !slices.Equal(got, []string{"b"}) {
		t.Errorf("unfinished %v, want [b]", got)
	}
}

// TestTailGrows: a journal just opened writes a short tail (firstTail),
// and the tail doubles as the journal is used, up to its full length, so
// a bgfn that accepts little writes little.
func TestTailGrows(t *testing.T) {
	const tail = 4 << 20
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{tail: tail})
	zerosNow := func() int64 {
		j.fmu.Lock()
		defer j.fmu.Unlock()
		return j.alloc - j.size
	}
	deadline := time.Now().Add(10 * time.Second)
	for zerosNow() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no tail after Open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Only the extender writes zeros, and it is done once they are durable.
	for {
		j.fmu.Lock()
		n := j.extensions
		j.fmu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first extension never ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if z := zerosNow(); z > firstTail {
		t.Fatalf("%d bytes of zeros after Open, want at most %d", z, firstTail)
	}
	// About 4 MB of lines, 50 writers at once.
	big := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Go(func() {
			for k := range 20 {
				r := run(fmt.Sprintf("%02d-%02d", w, k), k)
				r.Request.Body = big
				if err := j.Accept(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	j.fmu.Lock()
	want, extensions := j.want, j.extensions
	j.fmu.Unlock()
	if want != tail {
		t.Errorf("after %d extensions the tail is %d bytes long, want %d", extensions, want, tail)
	}
	if _, z := parts(t, path); z > tail {
		t.Errorf("%d bytes of zeros, more than the tail (%d)", z, tail)
	}
}
