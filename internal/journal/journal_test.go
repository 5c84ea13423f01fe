package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func run(id string, sec int) *Run {
	return &Run{
		ID: id, Function: "job-background", Kind: "background", MaxAttempts: 3,
		CreatedAt: t0.Add(time.Duration(sec) * time.Second),
		Request:   records.Request{Method: "POST", Path: "/.netlify/functions/job-background", Body: `{"n":` + id + `}`},
		Event:     json.RawMessage(`{"path":"/.netlify/functions/job-background","body":"{}"}`),
	}
}

// checkRecovery checks what Open recovered from the file at path: one
// warning line naming the file and saying wantWarning (none when it is
// ""), and the unfinished runs' ids.
func checkRecovery(t *testing.T, rec *Recovery, path, wantWarning string, unfinished []string) {
	t.Helper()
	w := strings.Join(rec.Warnings, "\n")
	switch {
	case wantWarning == "" && w != "":
		t.Errorf("unexpected warning %q", w)
	case wantWarning != "" && (!strings.Contains(w, wantWarning) || !strings.Contains(w, path) || strings.Contains(w, "\n")):
		t.Errorf("warnings = %q, want one line naming %s with %q", w, path, wantWarning)
	}
	if got := ids(rec.Unfinished); !slices.Equal(got, orEmpty(unfinished)) {
		t.Errorf("unfinished = %v, want %v", got, unfinished)
	}
}

func open(t *testing.T, path string, opts Options) (*Journal, *Recovery) {
	t.Helper()
	if opts.tail == 0 {
		opts.tail = testTail
	}
	j, rec, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j, rec
}

// testTail is the zero tail of the tests' journals, unless they set one:
// small, so compactions and extensions are cheap and frequent.
const testTail = 16 << 10

// parts splits the journal file at path into its lines and the zeros
// after them, and fails the test if anything but zeros follows the first
// NUL.
func parts(t *testing.T, path string) (lines []byte, zeroTail int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return b, 0
	}
	if k := bytes.IndexFunc(b[i:], func(r rune) bool { return r != 0 }); k >= 0 {
		t.Fatalf("%s: data at offset %d after the zeros that begin at %d", path, i+k, i)
	}
	return b[:i], int64(len(b) - i)
}

func ids(rs []Run) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func line(t *testing.T, e entry) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func at(sec int) *time.Time {
	x := t0.Add(time.Duration(sec) * time.Second)
	return &x
}

// TestReplay writes journal files line by line and checks what reading
// them back gives: the unfinished runs, the resumable ones and their
// attempts.
func TestReplay(t *testing.T) {
	header := entry{Op: opHeader, Version: Version}
	accept := func(id string, sec int) entry { return entry{Op: opAccept, Run: run(id, sec)} }
	start := func(id string, n, sec int) entry { return entry{Op: opStart, ID: id, N: n, At: at(sec)} }
	end := func(id string, n int, s records.Status) entry {
		return entry{Op: opEnd, ID: id, Attempt: &records.Attempt{N: n, Status: s, StartedAt: *at(n), EndedAt: at(n + 1)}}
	}
	final := func(id string, s records.Status) entry { return entry{Op: opFinal, ID: id, Status: s, At: at(9)} }
	resume := func(id string) entry { return entry{Op: opResume, ID: id, At: at(9)} }
	tests := []struct {
		name            string
		entries         []entry
		unfinished      []string
		interrupted     []string
		attempts        map[string][]records.Status // of the runs listed above
		wantWarning     string
		wantEffectiveOf map[string]int
	}{
		{
			name:       "accepted and never started",
			entries:    []entry{header, accept("1", 0)},
			unfinished: []string{"1"},
			attempts:   map[string][]records.Status{"1": {}},
		},
		{
			name:       "killed during an attempt",
			entries:    []entry{header, accept("1", 0), start("1", 1, 1)},
			unfinished: []string{"1"},
			attempts:   map[string][]records.Status{"1": {records.Running}},
		},
		{
			name:       "waiting for a retry",
			entries:    []entry{header, accept("1", 0), start("1", 1, 1), end("1", 1, records.Failed)},
			unfinished: []string{"1"},
			attempts:   map[string][]records.Status{"1": {records.Failed}},
		},
		{
			name: "final statuses end runs, cancelled included",
			entries: []entry{header, accept("1", 0), accept("2", 1), accept("3", 2), accept("4", 3),
				start("1", 1, 4), final("1", records.Succeeded), final("2", records.Failed), final("3", records.TimedOut), final("4", records.Cancelled)},
		},
		{
			name:            "an interrupted run is resumable, its running attempt interrupted",
			entries:         []entry{header, accept("1", 0), start("1", 1, 1), final("1", records.Interrupted)},
			interrupted:     []string{"1"},
			attempts:        map[string][]records.Status{"1": {records.Interrupted}},
			wantEffectiveOf: map[string]int{"1": 4},
		},
		{
			name:       "a resumed run is unfinished again",
			entries:    []entry{header, accept("1", 0), start("1", 1, 1), final("1", records.Interrupted), resume("1"), start("1", 2, 10)},
			unfinished: []string{"1"},
			attempts:   map[string][]records.Status{"1": {records.Interrupted, records.Running}},
		},
		{
			name:        "resumed and interrupted again while queued",
			entries:     []entry{header, accept("1", 0), final("1", records.Interrupted), resume("1"), final("1", records.Interrupted)},
			interrupted: []string{"1"},
			attempts:    map[string][]records.Status{"1": {}},
		},
		{
			name:       "oldest first",
			entries:    []entry{header, accept("b", 5), accept("a", 1), accept("c", 3)},
			unfinished: []string{"a", "c", "b"},
		},
		{
			name:       "lines about runs that ended change nothing",
			entries:    []entry{header, accept("1", 0), final("1", records.Succeeded), start("1", 2, 3), end("1", 2, records.Failed), resume("1")},
			unfinished: nil,
		},
		{
			name:       "a compacted run carries its attempts",
			entries:    []entry{header, {Op: opAccept, Run: &Run{ID: "1", Function: "f", MaxAttempts: 3, Attempts: []records.Attempt{{N: 1, Status: records.Failed}}}}, start("1", 2, 5)},
			unfinished: []string{"1"},
			attempts:   map[string][]records.Status{"1": {records.Failed, records.Running}},
		},
		{
			name:        "unknown ops are skipped with a warning",
			entries:     []entry{header, {Op: "frobnicate", ID: "1"}, accept("1", 0)},
			unfinished:  []string{"1"},
			wantWarning: `ignored 1 line(s) that are not journal entries (first at line 2: unknown op "frobnicate")`,
		},
		{
			name:        "a newer format is refused line by line",
			entries:     []entry{{Op: opHeader, Version: Version + 1}, accept("1", 0)},
			unfinished:  []string{"1"},
			wantWarning: "is newer than this bgfn's",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			var b strings.Builder
			for _, e := range tt.entries {
				b.WriteString(line(t, e))
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			j, rec := open(t, path, Options{})
			if got := ids(rec.Unfinished); !slices.Equal(got, orEmpty(tt.unfinished)) {
				t.Errorf("unfinished = %v, want %v", got, tt.unfinished)
			}
			interrupted := j.Interrupted()
			if got := ids(interrupted); !slices.Equal(got, orEmpty(tt.interrupted)) {
				t.Errorf("interrupted = %v, want %v", got, tt.interrupted)
			}
			for _, r := range append(rec.Unfinished, interrupted...) {
				want, ok := tt.attempts[r.ID]
				if !ok {
					continue
				}
				var got []records.Status
				for k, a := range r.Attempts {
					got = append(got, a.Status)
					if a.N != k+1 {
						t.Errorf("%s: attempt %d has number %d", r.ID, k+1, a.N)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: attempts %v, want %v", r.ID, got, want)
				}
				if n, ok := tt.wantEffectiveOf[r.ID]; ok && r.EffectiveMax() != n {
					t.Errorf("%s: EffectiveMax = %d, want %d", r.ID, r.EffectiveMax(), n)
				}
			}
			switch w := strings.Join(rec.Warnings, "\n"); {
			case tt.wantWarning == "" && w != "":
				t.Errorf("warnings: %s", w)
			case !strings.Contains(w, tt.wantWarning):
				t.Errorf("warnings = %q, want one with %q", w, tt.wantWarning)
			case tt.wantWarning != "" && (len(rec.Warnings) != 1 || !strings.Contains(w, path)):
				t.Errorf("want one warning line naming %s, got %q", path, w)
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestTornLines: whatever a kill leaves at the end of the file, the
// journal opens, says what it ignored in one line naming the file, and
// appends after the last whole line.
func TestTornLines(t *testing.T) {
	good := line(t, entry{Op: opHeader, Version: Version}) + line(t, entry{Op: opAccept, Run: run("1", 0)})
	acc2 := line(t, entry{Op: opAccept, Run: run("2", 1)})
	tests := []struct {
		name        string
		content     string
		wantWarning string // "" for none
		unfinished  []string
	}{
		{"whole lines", good, "", []string{"1"}},
		{"cut in the middle of a line", good + acc2[:len(acc2)/2], "ignored a partial last line", []string{"1"}},
		{"cut just before the newline", good + acc2[:len(acc2)-1], "ignored a partial last line", []string{"1"}},
		{"one byte of a line", good + "{", "ignored a partial last line", []string{"1"}},
		{"a torn line longer than the next one", good + strings.Repeat(strings.TrimSuffix(acc2, "\n"), 3), "ignored a partial last line", []string{"1"}},
		{"a torn first line", `{"op":"jour`, "ignored a partial last line", nil},
		{"garbage between lines", good + "garbage\n" + acc2, "ignored 1 line(s) that are not journal entries (first at line 3:", []string{"1", "2"}},
		{"zeros, then lines: the zeros end the journal", good + "\x00\x00garbage\n" + acc2, "bytes from offset 293 on, zeros followed by a write bgfn did not finish", []string{"1"}},
		{"blank lines", good + "\n\n" + acc2, "", []string{"1", "2"}},
		{"empty file", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			j, rec, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			checkRecovery(t, rec, path, tt.wantWarning, tt.unfinished)
			// What comes next is its own line, not glued to the torn one.
			if err := j.Accept(run("9", 9)); err != nil {
				t.Fatalf("Accept after open: %v", err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j2, rec2 := open(t, path, Options{})
			defer j2.Close()
			if len(rec2.Warnings) > 0 && tt.wantWarning != "" && strings.Contains(tt.wantWarning, "partial") {
				t.Errorf("the torn line is still there after it was cut: %q", rec2.Warnings)
			}
			want := append(slices.Clone(orEmpty(tt.unfinished)), "9")
			if got := ids(rec2.Unfinished); !slices.Equal(got, want) {
				t.Errorf("after an append and a reopen: unfinished = %v, want %v", got, want)
			}
		})
	}
}

// TestCompaction fills a small journal with runs that end and some that
// do not: compaction keeps every unfinished and resumable run, with its
// attempts, and the file stays near its limit.
func TestCompaction(t *testing.T) {
	tests := []struct {
		name    string
		maxSize int64
		runs    int
		// keepEvery: run i stays unfinished when i%keepEvery == 0, is
		// interrupted when i%keepEvery == 1, else it succeeds.
		keepEvery int
	}{
		{"most runs end", 4 << 10, 500, 50},
		{"half the runs stay", 4 << 10, 200, 2},
		{"nothing ends", 4 << 10, 100, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			j, _ := open(t, path, Options{MaxSize: tt.maxSize})
			var unfinished, interrupted []string
			var maxSeen int64
			for i := range tt.runs {
				id := fmt.Sprintf("%05d", i)
				if err := j.Accept(run(id, i)); err != nil {
					t.Fatal(err)
				}
				if err := j.Start(id, 1, t0); err != nil {
					t.Fatal(err)
				}
				switch {
				case i%tt.keepEvery == 0:
					j.End(id, records.Attempt{N: 1, Status: records.Failed, StartedAt: t0})
					unfinished = append(unfinished, id)
				case tt.keepEvery > 1 && i%tt.keepEvery == 1:
					j.Final(id, records.Interrupted, t0)
					interrupted = append(interrupted, id)
				default:
					j.Final(id, records.Succeeded, t0)
				}
				lines, zeroTail := parts(t, path)
				maxSeen = max(maxSeen, int64(len(lines)))
				if zeroTail > testTail {
					t.Fatalf("%d bytes of zeros after the lines, more than the tail (%d)", zeroTail, testTail)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j2, rec := open(t, path, Options{MaxSize: tt.maxSize})
			if got := ids(rec.Unfinished); !slices.Equal(got, unfinished) {
				t.Errorf("unfinished: %d runs, want %d (first missing: %v)", len(got), len(unfinished), firstMissing(unfinished, got))
			}
			for _, r := range rec.Unfinished {
				if len(r.Attempts) != 1 || r.Attempts[0].Status != records.Failed {
					t.Fatalf("%s lost its attempt: %+v", r.ID, r.Attempts)
				}
				if r.Request.Body == "" || len(r.Event) == 0 {
					t.Fatalf("%s lost its request: %+v", r.ID, r)
				}
			}
			if got := ids(j2.Interrupted()); !slices.Equal(got, orEmpty(interrupted)) {
				t.Errorf("interrupted: %d runs, want %d", len(got), len(interrupted))
			}
			if len(rec.Warnings) > 0 {
				t.Errorf("warnings: %v", rec.Warnings)
			}
			// What is kept bounds the file: twice the limit, or twice what
			// must be kept when that is more, plus one batch.
			lines, _ := parts(t, path)
			keptLine := int64(len(line(t, entry{Op: opAccept, Run: run("00000", 0)}))) + 200
			bound := 2*max(tt.maxSize, int64(len(unfinished)+len(interrupted))*keptLine) + 4<<10
			if maxSeen > bound {
				t.Errorf("the journal reached %d bytes (limit %d, now %d): compaction did not keep it near the limit", maxSeen, tt.maxSize, len(lines))
			}
		})
	}
}

func firstMissing(want, got []string) string {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return w
		}
	}
	return ""
}

// TestCompactOnOpen: a journal left past its limit is rewritten at start.
func TestCompactOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	var b strings.Builder
	b.WriteString(line(t, entry{Op: opHeader, Version: Version}))
	for i := range 300 {
		id := fmt.Sprint(i)
		b.WriteString(line(t, entry{Op: opAccept, Run: run(id, i)}))
		if i != 7 {
			b.WriteString(line(t, entry{Op: opFinal, ID: id, Status: records.Succeeded, At: at(i)}))
		}
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	before, _ := parts(t, path)
	_, rec := open(t, path, Options{MaxSize: 4 << 10})
	after, _ := parts(t, path)
	if got := ids(rec.Unfinished); !slices.Equal(got, []string{"7"}) {
		t.Errorf("unfinished = %v", got)
	}
	if len(after) >= len(before)/10 {
		t.Errorf("journal %d bytes after open, %d before: not compacted", len(after), len(before))
	}
}

// TestGroupCommit: 50 writers at once all get their run on disk, in
// fewer fsyncs than runs.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{})
	const writers, each = 50, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for k := range each {
				id := fmt.Sprintf("%02d-%02d", w, k)
				if err := j.Accept(run(id, w*each+k)); err != nil {
					t.Error(err)
					return
				}
				// Once Accept returns the line is in the file.
				b, _ := os.ReadFile(path)
				if !strings.Contains(string(b), `"id":"`+id+`"`) {
					t.Errorf("Accept(%s) returned before its line was written", id)
					return
				}
			}
		})
	}
	wg.Wait()
	j.Close()
	syncs := j.syncs
	_, rec := open(t, path, Options{})
	if len(rec.Unfinished) != writers*each {
		t.Errorf("%d runs after reopening, want %d", len(rec.Unfinished), writers*each)
	}
	t.Logf("%d accepts in %d fsyncs", writers*each, syncs)
	if syncs >= writers*each {
		t.Errorf("%d fsyncs for %d accepts: no batching", syncs, writers*each)
	}
}

// TestResume: a run is resumed once, and a resumed run that does not end
// is unfinished at the next open.
func TestResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{})
	for i, id := range []string{"a", "b", "c"} {
		j.Accept(run(id, i))
		j.Final(id, records.Interrupted, t0)
	}
	got, err := j.Resume("b")
	if err != nil || !slices.Equal(ids(got), []string{"b"}) || got[0].Status != "" {
		t.Fatalf("Resume(b) = %v, %v", got, err)
	}
	if again, _ := j.Resume("b"); len(again) != 0 {
		t.Errorf("b resumed twice")
	}
	rest, _ := j.Resume()
	if !slices.Equal(ids(rest), []string{"a", "c"}) {
		t.Errorf("Resume() = %v, want a and c", ids(rest))
	}
	if left := j.Interrupted(); len(left) != 0 {
		t.Errorf("still resumable: %v", ids(left))
	}
	j.Final("c", records.Succeeded, t0)
	j.Close()
	_, rec := open(t, path, Options{})
	if got := ids(rec.Unfinished); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after reopening: unfinished %v, want a and b", got)
	}
}

// TestFailedWrite: an accept that could not be written is an error and
// leaves nothing behind, not even for a compaction.
func TestFailedWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := open(t, path, Options{})
	j.Accept(run("kept", 0))
	// Replace the file under the journal with a read-only handle: writes
	// fail as on a full disk.
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j.fmu.Lock()
	good := j.f
	j.f = ro
	j.fmu.Unlock()
	if err := j.Accept(run("lost", 1)); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Accept on a failing disk = %v, want an error naming %s", err, path)
	}
	j.mu.Lock()
	_, stays := j.st.runs["lost"]
	j.mu.Unlock()
	j.fmu.Lock()
	j.f = good
	j.fmu.Unlock()
	ro.Close()
	if stays {
		t.Errorf("the run that was not accepted is still in the journal's state")
	}
	if err := j.Accept(run("after", 2)); err != nil {
		t.Fatalf("Accept once the disk works again: %v", err)
	}
	j.Close()
	_, rec := open(t, path, Options{})
	if got := ids(rec.Unfinished); !slices.Equal(got, []string{"kept", "after"}) {
		t.Errorf("unfinished = %v", got)
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	open(t, path, Options{})
	_, _, err := Open(path, Options{})
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open = %v, want a LockedError naming %s and pid %d", err, path, os.Getpid())
	}
}

func TestClosedAndNil(t *testing.T) {
	var nj *Journal
	if err := nj.Accept(run("1", 0)); err != nil {
		t.Errorf("nil Accept: %v", err)
	}
	nj.End("1", records.Attempt{N: 1})
	nj.Final("1", records.Succeeded, t0)
	if rs, err := nj.Resume(); rs != nil || err != nil {
		t.Errorf("nil Resume = %v, %v", rs, err)
	}
	if nj.Close() != nil || nj.Interrupted() != nil {
		t.Errorf("nil journal holds something")
	}
	j, _ := open(t, filepath.Join(t.TempDir(), "journal.jsonl"), Options{})
	j.Close()
	if err := j.Accept(run("1", 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Accept after Close = %v, want ErrClosed", err)
	}
	j.Final("1", records.Succeeded, t0) // no panic
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestHeldFinals: with BeforeFinal set, final lines are held back and go
// out together, so BeforeFinal's fsync is not paid with every batch; they
// still reach the file on their own, an interrupted final keeps its
// place, and Close writes what is held.
func TestHeldFinals(t *testing.T) {
	var calls atomic.Int64
	opts := Options{BeforeFinal: func() error { calls.Add(1); return nil }}
	has := func(path, s string) bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), s)
	}
	finalOf := func(id string) string { return `"op":"final","id":"` + id + `"` }

	t.Run("many finals, few BeforeFinal calls", func(t *testing.T) {
		calls.Store(0)
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j, _ := open(t, path, opts)
		const n = 200
		start := time.Now()
		for i := range n {
			id := fmt.Sprintf("r%03d", i)
			if err := j.Accept(run(id, i)); err != nil {
				t.Fatal(err)
			}
			j.Final(id, records.Succeeded, t0)
		}
		elapsed := time.Since(start)
		if max := int64(elapsed/finalEvery) + 2; calls.Load() > max {
			t.Errorf("%d BeforeFinal calls for %d finals in %s, want at most %d", calls.Load(), n, elapsed, max)
		}
		j.Close()
		if calls.Load() == 0 {
			t.Error("BeforeFinal never called")
		}
		_, rec := open(t, path, Options{})
		if len(rec.Unfinished) != 0 {
			t.Errorf("%d runs unfinished after Close, want 0: Close must write the held finals", len(rec.Unfinished))
		}
	})
	t.Run("a held final goes out on its own", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j, _ := open(t, path, opts)
		for _, id := range []string{"a", "b"} {
			if err := j.Accept(run(id, 0)); err != nil {
				t.Fatal(err)
			}
			// The second one comes within finalEvery of the first.
			j.Final(id, records.Failed, t0)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !has(path, finalOf("b")) {
			if time.Now().After(deadline) {
				t.Fatal("the held final never reached the file")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	t.Run("an interrupted final keeps its place", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j, _ := open(t, path, opts)
		for _, id := range []string{"x", "y"} {
			if err := j.Accept(run(id, 0)); err != nil {
				t.Fatal(err)
			}
		}
		j.Final("x", records.Succeeded, t0) // BeforeFinal runs now
		j.Final("y", records.Interrupted, t0)
		if _, err := j.Resume("y"); err != nil {
			t.Fatal(err)
		}
		if !has(path, finalOf("y")) {
			t.Fatal("Resume returned before the interrupted final was written")
		}
		j.Close()
		_, rec := open(t, path, Options{})
		if got := ids(rec.Unfinished); !slices.Equal(got, []string{"y"}) {
			t.Errorf("unfinished after reopening: %v, want [y] (resumed)", got)
		}
	})
}
