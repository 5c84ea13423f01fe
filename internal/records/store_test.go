package records_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

func newStore(t *testing.T, max int, journal string) *records.Store {
	t.Helper()
	s, err := records.NewStore(max, journal)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func recordIDs(rs []*records.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID()
	}
	return out
}

func ids(rs []*records.View) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestStatusFinal(t *testing.T) {
	tests := []struct {
		s    records.Status
		want bool
	}{
		{records.Queued, false},
		{records.Running, false},
		{records.Retrying, false},
		{records.Succeeded, true},
		{records.Failed, true},
		{records.TimedOut, true},
		{records.Interrupted, true},
		{records.Cancelled, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.s), func(t *testing.T) {
			if got := tt.s.Final(); got != tt.want {
				t.Errorf("%s.Final() = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestStoreNewGet(t *testing.T) {
	s := newStore(t, 10, "")
	req := records.Request{Method: "POST", Path: "/.netlify/functions/a", Body: "hi"}
	r := s.New(records.Spec{ID: "id1", Function: "a", Kind: "background", MaxAttempts: 3, Request: req, Body: []byte("hi")})
	if r.Status() != records.Queued {
		t.Errorf("new record status = %q, want queued", r.Status())
	}
	if r.MaxAttempts() != 3 || r.Function() != "a" || r.Kind() != "background" || string(r.Body()) != "hi" || r.View().Request.Path != req.Path {
		t.Errorf("new record = %+v, want the fields it was made with", r.View())
	}
	if r.CreatedAt().IsZero() {
		t.Errorf("CreatedAt is zero")
	}
	got, ok := s.Get("id1")
	if !ok || got != r {
		t.Errorf("Get(id1) = %p, %v; want the record %p", got, ok, r)
	}
	if _, ok := s.Get("nope"); ok {
		t.Errorf("Get(nope) found a record")
	}
	select {
	case <-r.Done():
		t.Errorf("Done is closed before Finish")
	default:
	}
}

func TestStoreList(t *testing.T) {
	s := newStore(t, 10, "")
	type spec struct {
		id, fn string
		final  records.Status // "" leaves it unfinished
	}
	specs := []spec{
		{"1", "a", records.Succeeded},
		{"2", "b", records.Failed},
		{"3", "a", ""},
		{"4", "a", records.Failed},
		{"5", "b", records.Succeeded},
		{"6", "a", records.Succeeded},
	}
	for _, sp := range specs {
		r := s.New(records.Spec{ID: sp.id, Function: sp.fn, Kind: "background", MaxAttempts: 1})
		if sp.final != "" {
			r.StartAttempt()
			r.Finish(sp.final)
		}
	}
	tests := []struct {
		name string
		f    records.Filter
		want []string
	}{
		{name: "all, newest first", want: []string{"6", "5", "4", "3", "2", "1"}},
		{name: "function", f: records.Filter{Function: "a"}, want: []string{"6", "4", "3", "1"}},
		{name: "status", f: records.Filter{Status: records.Failed}, want: []string{"4", "2"}},
		{name: "unfinished status", f: records.Filter{Status: records.Queued}, want: []string{"3"}},
		{name: "function and status", f: records.Filter{Function: "b", Status: records.Succeeded}, want: []string{"5"}},
		{name: "limit", f: records.Filter{Limit: 2}, want: []string{"6", "5"}},
		{name: "limit after filtering", f: records.Filter{Function: "a", Limit: 3}, want: []string{"6", "4", "3"}},
		{name: "limit over the count", f: records.Filter{Limit: 100}, want: []string{"6", "5", "4", "3", "2", "1"}},
		{name: "no match", f: records.Filter{Function: "zzz"}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.List(tt.f)
			if got == nil {
				t.Fatalf("List returned nil, want an empty slice (it is encoded as JSON)")
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("List(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
		})
	}
}

func TestListReturnsSnapshots(t *testing.T) {
	s := newStore(t, 10, "")
	r := s.New(records.Spec{ID: "1", Function: "a", Kind: "sync", MaxAttempts: 1})
	snap := s.List(records.Filter{})[0]
	r.StartAttempt()
	if snap.Status != records.Queued || len(snap.Attempts) != 0 {
		t.Errorf("snapshot changed with the record: status %q, %d attempts", snap.Status, len(snap.Attempts))
	}
	if snap.Attempts == nil || snap.Logs == nil {
		t.Errorf("snapshot has nil Attempts or Logs; they encode as null, want []")
	}
}

func TestStoreEviction(t *testing.T) {
	tests := []struct {
		name     string
		max      int
		n        int
		finished []int // indexes finished, in this order
		want     []string
		gone     []string
	}{
		{
			name:     "keeps the newest final records",
			max:      2,
			n:        5,
			finished: []int{0, 1, 2, 3},
			want:     []string{"r4", "r3", "r2"},
			gone:     []string{"r0", "r1"},
		},
		{
			name:     "unfinished records are never evicted",
			max:      1,
			n:        6,
			finished: []int{5},
			want:     []string{"r5", "r4", "r3", "r2", "r1", "r0"},
		},
		{
			name:     "unfinished records do not count toward max",
			max:      2,
			n:        6,
			finished: []int{1, 3, 5},
			want:     []string{"r5", "r4", "r3", "r2", "r0"},
			gone:     []string{"r1"},
		},
		{
			name: "max below 1 keeps one",
			max:  0,
			n:    3, finished: []int{0, 1, 2},
			want: []string{"r2"},
			gone: []string{"r0", "r1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, tt.max, "")
			var rs []*records.Record
			for i := range tt.n {
				rs = append(rs, s.New(records.Spec{ID: "r" + string(rune('0'+i)), Function: "f", Kind: "background", MaxAttempts: 1}))
			}
			for _, i := range tt.finished {
				rs[i].Finish(records.Succeeded)
			}
			if got := ids(s.List(records.Filter{})); !slices.Equal(got, tt.want) {
				t.Errorf("List = %v, want %v", got, tt.want)
			}
			for _, id := range tt.want {
				if _, ok := s.Get(id); !ok {
					t.Errorf("Get(%s) not found, want kept", id)
				}
			}
			for _, id := range tt.gone {
				if _, ok := s.Get(id); ok {
					t.Errorf("Get(%s) found, want evicted", id)
				}
			}
		})
	}
}

func TestUnfinished(t *testing.T) {
	s := newStore(t, 10, "")
	var rs []*records.Record
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		rs = append(rs, s.New(records.Spec{ID: id, Function: "f", Kind: "background", MaxAttempts: 3}))
	}
	rs[1].Finish(records.Succeeded)
	rs[2].StartAttempt()
	rs[3].StartAttempt()
	rs[3].EndAttempt(records.Failed, 0, &records.Error{Message: "x"})
	rs[3].Retry(time.Now().Add(time.Minute))
	if got, want := recordIDs(s.Unfinished()), []string{"a", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("Unfinished = %v, want %v (oldest first; queued, running and retrying)", got, want)
	}
	for _, r := range s.Unfinished() {
		r.Finish(records.Interrupted)
	}
	if got := s.Unfinished(); len(got) != 0 {
		t.Errorf("Unfinished after finishing all = %v, want none", recordIDs(got))
	}
}

func TestRecordLifecycle(t *testing.T) {
	s := newStore(t, 10, "")
	r := s.New(records.Spec{ID: "1", Function: "f", Kind: "background", MaxAttempts: 2})

	if n := r.StartAttempt(); n != 1 {
		t.Fatalf("first StartAttempt = %d, want 1", n)
	}
	if r.Status() != records.Running || r.AttemptCount() != 1 {
		t.Errorf("after StartAttempt: status %q, %d attempts", r.Status(), r.AttemptCount())
	}
	fe := &records.Error{Type: "Error", Message: "boom"}
	r.EndAttempt(records.Failed, 42, fe)
	next := time.Now().Add(time.Minute)
	r.Retry(next)
	snap := r.View()
	if snap.Status != records.Retrying || snap.NextRetryAt == nil || !snap.NextRetryAt.Equal(next) {
		t.Errorf("after Retry: status %q, nextRetryAt %v; want retrying at %v", snap.Status, snap.NextRetryAt, next)
	}
	a := snap.Attempts[0]
	if a.Status != records.Failed || a.Pid != 42 || a.Error == nil || a.Error.Message != "boom" || a.EndedAt == nil {
		t.Errorf("attempt 1 = %+v, want failed with pid 42 and the error", a)
	}

	if n := r.StartAttempt(); n != 2 {
		t.Fatalf("second StartAttempt = %d, want 2", n)
	}
	if r.View().NextRetryAt != nil {
		t.Errorf("NextRetryAt still set once the retry started")
	}
	r.SetStatusCode(200)
	r.Finish(records.Succeeded)
	snap = r.View()
	if snap.Status != records.Succeeded || snap.EndedAt == nil || snap.StatusCode != 200 {
		t.Errorf("after Finish: %+v", snap)
	}
	if a := snap.Attempts[1]; a.Status != records.Succeeded || a.EndedAt == nil {
		t.Errorf("Finish left the running attempt %+v, want it ended as succeeded", a)
	}
}

func TestFinishIdempotent(t *testing.T) {
	tests := []struct {
		name   string
		first  records.Status
		second records.Status
	}{
		{"succeeded then failed", records.Succeeded, records.Failed},
		{"interrupted then succeeded", records.Interrupted, records.Succeeded},
		{"same twice", records.TimedOut, records.TimedOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 10, "")
			r := s.New(records.Spec{ID: "1", Function: "f", Kind: "background", MaxAttempts: 1})
			r.StartAttempt()
			r.Finish(tt.first)
			select {
			case <-r.Done():
			default:
				t.Fatalf("Done not closed after Finish")
			}
			ended := *r.View().EndedAt
			r.Finish(tt.second) // must not panic on a closed channel
			snap := r.View()
			if snap.Status != tt.first {
				t.Errorf("status after a second Finish = %q, want %q", snap.Status, tt.first)
			}
			if !snap.EndedAt.Equal(ended) {
				t.Errorf("EndedAt moved from %v to %v", ended, *snap.EndedAt)
			}
			if got := s.List(records.Filter{}); len(got) != 1 {
				t.Errorf("List has %d records after two Finishes, want 1", len(got))
			}
		})
	}
}

func TestJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "invocations.jsonl")
	s, err := records.NewStore(2, path)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	finals := map[string]records.Status{"a": records.Succeeded, "b": records.Failed, "c": records.TimedOut, "d": records.Interrupted}
	for _, id := range []string{"a", "b", "c", "d"} {
		r := s.New(records.Spec{ID: id, Function: "fn", Kind: "background", MaxAttempts: 1, Request: records.Request{Method: "POST", Path: "/p"}, Body: []byte("secret body")})
		r.StartAttempt()
		r.Log(1, false, []byte("line from "+id))
		r.Finish(finals[id])
	}
	s.New(records.Spec{ID: "live", Function: "fn", Kind: "background", MaxAttempts: 1}) // never finishes
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	got := readJournal(t, path)
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(ids(got), want) {
		t.Fatalf("journal ids = %v, want %v (every final record, even evicted ones; not the live one)", ids(got), want)
	}
	for _, r := range got {
		if r.Status != finals[r.ID] {
			t.Errorf("journal %s: status %q, want %q", r.ID, r.Status, finals[r.ID])
		}
		if len(r.Logs) != 1 || r.Logs[0].Line != "line from "+r.ID || len(r.Attempts) != 1 {
			t.Errorf("journal %s: logs %+v, attempts %d", r.ID, r.Logs, len(r.Attempts))
		}
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "secret body") {
		t.Errorf("journal holds the raw request body: %s", raw)
	}

	// A new store appends to the journal.
	s2, err := records.NewStore(2, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	s2.New(records.Spec{ID: "e", Function: "fn", Kind: "background", MaxAttempts: 1}).Finish(records.Succeeded)
	// A successful synchronous call is not journaled (a load test would
	// write a kilobyte per request); a failed one is.
	s2.New(records.Spec{ID: "f", Function: "fn", Kind: "sync", MaxAttempts: 1}).Finish(records.Succeeded)
	s2.New(records.Spec{ID: "g", Function: "fn", Kind: "sync", MaxAttempts: 1}).Finish(records.Failed)
	if err := s2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := ids(readJournal(t, path)), []string{"a", "b", "c", "d", "e", "g"}; !slices.Equal(got, want) {
		t.Errorf("journal after reopening = %v, want %v", got, want)
	}
}

func TestJournalOpenError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The journal's directory is a regular file.
	_, err := records.NewStore(10, filepath.Join(file, "invocations.jsonl"))
	if err == nil {
		t.Fatalf("NewStore under a file: no error")
	}
	if !strings.HasPrefix(err.Error(), "open journal: ") {
		t.Errorf("error = %q, want it to say what was being done", err)
	}
}

func readJournal(t *testing.T, path string) []*records.View {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	defer f.Close()
	var out []*records.View
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r records.View
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		out = append(out, &r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSubscribe(t *testing.T) {
	s := newStore(t, 10, "")
	ch, stop := s.Subscribe()
	r := s.New(records.Spec{ID: "1", Function: "fn", Kind: "background", MaxAttempts: 1})
	r.StartAttempt()
	r.Log(1, true, []byte("hello"))
	r.Log(1, false, []byte("out"))
	r.Finish(records.Succeeded)

	type want struct {
		typ    string
		status records.Status // record events
		line   string         // log events
		stream string
	}
	wants := []want{
		{typ: "record", status: records.Queued},
		{typ: "record", status: records.Running},
		{typ: "log", line: "hello", stream: "stderr"},
		{typ: "log", line: "out", stream: "stdout"},
		{typ: "record", status: records.Succeeded},
	}
	for i, w := range wants {
		var ev records.Event
		select {
		case ev = <-ch:
		default:
			t.Fatalf("event %d: none, want %+v", i, w)
		}
		if ev.Type != w.typ {
			t.Fatalf("event %d type = %q, want %q", i, ev.Type, w.typ)
		}
		switch w.typ {
		case "record":
			var rec records.View
			if err := json.Unmarshal(ev.Record, &rec); err != nil {
				t.Fatalf("event %d record: %v", i, err)
			}
			if rec.ID != "1" || rec.Status != w.status {
				t.Errorf("event %d record = %s %q, want 1 %q", i, rec.ID, rec.Status, w.status)
			}
		case "log":
			if ev.ID != "1" || ev.Function != "fn" || ev.Log == nil || ev.Log.Line != w.line || ev.Log.Stream != w.stream || ev.Log.Attempt != 1 {
				t.Errorf("event %d = %+v (log %+v), want %s line %q", i, ev, ev.Log, w.stream, w.line)
			}
		}
	}
	stop()
	if _, ok := <-ch; ok {
		t.Errorf("channel still open after stop")
	}
	stop() // a second stop is harmless
	s.New(records.Spec{ID: "2", Function: "fn", Kind: "sync", MaxAttempts: 1}).Finish(records.Succeeded)
}

func TestSubscribeSlowSubscriberDoesNotBlock(t *testing.T) {
	s := newStore(t, 10, "")
	_, stop := s.Subscribe()
	defer stop()
	r := s.New(records.Spec{ID: "1", Function: "fn", Kind: "background", MaxAttempts: 1})
	for range 1000 { // far more than the subscriber's buffer
		r.Log(1, false, []byte("x"))
	}
	r.Finish(records.Succeeded)
}

func TestLogLimits(t *testing.T) {
	long := strings.Repeat("y", records.MaxLogLineLen+100)
	tests := []struct {
		name      string
		lines     []string
		wantLines int
		wantCut   int
		wantLast  string
	}{
		{name: "few lines", lines: []string{"a", "b"}, wantLines: 2, wantLast: "b"},
		{name: "empty line", lines: []string{""}, wantLines: 1, wantLast: ""},
		{name: "exactly the cap", lines: repeat("z", records.MaxLogLines), wantLines: records.MaxLogLines, wantLast: "z"},
		{name: "over the cap", lines: repeat("z", records.MaxLogLines+7), wantLines: records.MaxLogLines, wantCut: 7, wantLast: "z"},
		{name: "long line cut", lines: []string{long}, wantLines: 1, wantLast: long[:records.MaxLogLineLen]},
		{name: "line at the length limit", lines: []string{long[:records.MaxLogLineLen]}, wantLines: 1, wantLast: long[:records.MaxLogLineLen]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 10, "")
			r := s.New(records.Spec{ID: "1", Function: "fn", Kind: "background", MaxAttempts: 1})
			n := r.StartAttempt()
			for _, l := range tt.lines {
				r.Log(n, false, []byte(l))
			}
			snap := r.View()
			if len(snap.Logs) != tt.wantLines || snap.LogsCut != tt.wantCut {
				t.Fatalf("%d lines kept, %d dropped; want %d and %d", len(snap.Logs), snap.LogsCut, tt.wantLines, tt.wantCut)
			}
			if last := snap.Logs[len(snap.Logs)-1]; last.Line != tt.wantLast || last.Stream != "stdout" || last.Attempt != n {
				t.Errorf("last line = %d bytes %q attempt %d, want %d bytes", len(last.Line), last.Stream, last.Attempt, len(tt.wantLast))
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestLogCopiesTheLine(t *testing.T) {
	s := newStore(t, 10, "")
	r := s.New(records.Spec{ID: "1", Function: "fn", Kind: "background", MaxAttempts: 1})
	buf := []byte("first")
	r.Log(1, false, buf)
	copy(buf, "XXXXX")
	if got := r.View().Logs[0].Line; got != "first" {
		t.Errorf("logged line = %q after the caller reused its buffer, want %q", got, "first")
	}
}

// TestJournalFlushesWithoutClose checks that final records reach the file
// soon after they end, not only at Close, so a crash loses little.
func TestJournalFlushesWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invocations.jsonl")
	synctest.Test(t, func(t *testing.T) {
		s, err := records.NewStore(10, path)
		if err != nil {
			t.Fatalf("NewStore: %v", err)
		}
		defer s.Close()
		s.New(records.Spec{ID: "a", Function: "fn", Kind: "background", MaxAttempts: 1}).Finish(records.Succeeded)
		s.New(records.Spec{ID: "b", Function: "fn", Kind: "sync", MaxAttempts: 1}).Finish(records.Failed)
		time.Sleep(time.Second)
		synctest.Wait()
		if got, want := ids(readJournal(t, path)), []string{"a", "b"}; !slices.Equal(got, want) {
			t.Errorf("journal a second later, before Close = %v, want %v", got, want)
		}
	})
}

// TestStoreRestore: a record made from a journal keeps its time and
// attempts, calls OnFinish once, and a resumed run replaces the final
// record of the same id.
func TestStoreRestore(t *testing.T) {
	s := newStore(t, 10, "")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var finals []records.Status
	spec := records.Spec{ID: "r1", Function: "f", Kind: "background", MaxAttempts: 4, CreatedAt: created,
		Attempts: []records.Attempt{{N: 1, Status: records.Interrupted}},
		OnFinish: func(s records.Status, _ time.Time) { finals = append(finals, s) }}
	r := s.New(spec)
	if !r.CreatedAt().Equal(created) || r.AttemptCount() != 1 {
		t.Fatalf("restored record: created %v, %d attempts", r.CreatedAt(), r.AttemptCount())
	}
	if a, ok := r.Attempt(1); !ok || a.Status != records.Interrupted {
		t.Errorf("Attempt(1) = %+v, %v", a, ok)
	}
	if _, ok := r.Attempt(2); ok {
		t.Errorf("Attempt(2) of a record with one attempt")
	}
	r.Finish(records.Interrupted)
	r.Finish(records.Failed)
	if !slices.Equal(finals, []records.Status{records.Interrupted}) {
		t.Errorf("OnFinish calls = %v, want one, interrupted", finals)
	}
	again := s.New(spec)
	if n := again.StartAttempt(); n != 2 {
		t.Errorf("the resumed record's next attempt is %d, want 2", n)
	}
	if got, _ := s.Get("r1"); got != again {
		t.Errorf("Get returns the old record after a resume")
	}
	if l := s.List(records.Filter{}); len(l) != 1 || l[0].Status != records.Running {
		t.Errorf("List = %d records (first %v), want the resumed one only", len(l), l[0].Status)
	}
}
