package records

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func seqs(t Tail) []int64 {
	out := []int64{}
	for _, l := range t.Lines {
		out = append(out, l.Seq)
	}
	return out
}

// fill writes n lines, alternating between functions a and b (odd
// sequence numbers are a's).
func fill(r *logRing, n int) {
	for k := range n {
		fn := "a"
		if k%2 == 1 {
			fn = "b"
		}
		r.add("id-"+fn, fn, LogLine{Line: fmt.Sprint(k + 1)})
	}
}

func TestLogRingTail(t *testing.T) {
	tests := []struct {
		name   string
		lines  int
		q      TailQuery
		seqs   []int64
		next   int64
		missed int64
		more   bool
		reset  bool
	}{
		{name: "empty", lines: 0, q: TailQuery{}, seqs: []int64{}, next: 0},
		{name: "empty with cursor", lines: 0, q: TailQuery{HasSince: true}, seqs: []int64{}, next: 0},
		{name: "everything held", lines: 5, q: TailQuery{}, seqs: []int64{1, 2, 3, 4, 5}, next: 5},
		{name: "after a cursor", lines: 5, q: TailQuery{Since: 3, HasSince: true}, seqs: []int64{4, 5}, next: 5},
		{name: "nothing new", lines: 5, q: TailQuery{Since: 5, HasSince: true}, seqs: []int64{}, next: 5},
		{name: "limit", lines: 5, q: TailQuery{Since: 1, HasSince: true, Limit: 2}, seqs: []int64{2, 3}, next: 3, more: true},
		{name: "limit exactly reached", lines: 5, q: TailQuery{Since: 3, HasSince: true, Limit: 2}, seqs: []int64{4, 5}, next: 5},
		{name: "one function", lines: 6, q: TailQuery{Since: 1, HasSince: true, Function: "b"}, seqs: []int64{2, 4, 6}, next: 6},
		{name: "one function, limit", lines: 6, q: TailQuery{HasSince: true, Function: "a", Limit: 2}, seqs: []int64{1, 3}, next: 3, more: true},
		{name: "one function, none of its lines at the end", lines: 5, q: TailQuery{Since: 4, HasSince: true, Function: "b"}, seqs: []int64{}, next: 5},
		// Size 4 from here: 10 lines leave 7..10.
		{name: "dropped without a cursor is not missed", lines: 10, q: TailQuery{}, seqs: []int64{7, 8, 9, 10}, next: 10},
		{name: "fell behind", lines: 10, q: TailQuery{Since: 2, HasSince: true}, seqs: []int64{7, 8, 9, 10}, next: 10, missed: 4},
		{name: "fell behind from the start", lines: 10, q: TailQuery{Since: 0, HasSince: true}, seqs: []int64{7, 8, 9, 10}, next: 10, missed: 6},
		{name: "just kept up", lines: 10, q: TailQuery{Since: 6, HasSince: true}, seqs: []int64{7, 8, 9, 10}, next: 10},
		{name: "fell behind, one function", lines: 10, q: TailQuery{Since: 2, HasSince: true, Function: "a"}, seqs: []int64{7, 9}, next: 10, missed: 4},
		{name: "cursor from another server", lines: 10, q: TailQuery{Since: 99, HasSince: true}, seqs: []int64{7, 8, 9, 10}, next: 10, reset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := 100
			if tt.lines > 6 {
				size = 4
			}
			r := newLogRing(size)
			fill(r, tt.lines)
			got := r.tail(tt.q)
			if s := seqs(got); !slices.Equal(s, tt.seqs) {
				t.Errorf("seqs = %v, want %v", s, tt.seqs)
			}
			if got.Next != tt.next || got.Missed != tt.missed || got.More != tt.more || got.Reset != tt.reset {
				t.Errorf("next %d missed %d more %v reset %v, want %d %d %v %v", got.Next, got.Missed, got.More, got.Reset, tt.next, tt.missed, tt.more, tt.reset)
			}
			if got.Latest != int64(tt.lines) {
				t.Errorf("latest = %d, want %d", got.Latest, tt.lines)
			}
			for _, l := range got.Lines {
				if l.Line != fmt.Sprint(l.Seq) {
					t.Errorf("line %d holds %q", l.Seq, l.Line)
				}
			}
		})
	}
}

// A function whose lines were not dropped has missed none, even when
// other functions' lines were dropped after the cursor.
func TestLogRingMissedPerFunction(t *testing.T) {
	r := newLogRing(4)
	r.add("q", "quiet", LogLine{Line: "q1"}) // 1
	for range 3 {
		r.add("n", "noisy", LogLine{Line: "n"}) // 2..4
	}
	since := r.tail(TailQuery{HasSince: true, Function: "quiet"}).Next // 4
	for range 8 {
		r.add("n", "noisy", LogLine{Line: "n"}) // 5..12
	}
	r.add("q", "quiet", LogLine{Line: "q2"}) // 13
	got := r.tail(TailQuery{Since: since, HasSince: true, Function: "quiet"})
	if got.Missed != 0 || len(got.Lines) != 1 || got.Lines[0].Line != "q2" || got.Next != 13 {
		t.Fatalf("quiet tail = %+v, want q2 alone, none missed", got)
	}
	// A quiet poller that fell behind its own lines hears of it.
	r.add("q", "quiet", LogLine{Line: "q3"}) // 14
	for range 4 {
		r.add("n", "noisy", LogLine{Line: "n"}) // 15..18: q2 and q3 dropped
	}
	got = r.tail(TailQuery{Since: 12, HasSince: true, Function: "quiet"})
	if got.Missed == 0 || len(got.Lines) != 0 {
		t.Fatalf("quiet tail after its lines were dropped = %+v, want missed > 0", got)
	}
}

// Pollers that follow Next see every line once, in order, while writers
// add lines concurrently.
func TestLogRingPollersMissNothing(t *testing.T) {
	r := newLogRing(LogRingSize)
	const writers, each = 4, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for k := range each {
				r.add("id", fmt.Sprint("f", w), LogLine{Line: fmt.Sprint(k)})
			}
		})
	}
	var got []int64
	var cursor int64
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		page := r.tail(TailQuery{Since: cursor, HasSince: true, Limit: 300})
		if page.Missed != 0 {
			t.Fatalf("missed %d lines with a ring of %d", page.Missed, LogRingSize)
		}
		got = append(got, seqs(page)...)
		cursor = page.Next
		if finished && !page.More && cursor == page.Latest {
			break
		}
	}
	if len(got) != writers*each {
		t.Fatalf("read %d lines, want %d", len(got), writers*each)
	}
	for k, s := range got {
		if s != int64(k+1) {
			t.Fatalf("line %d has seq %d", k, s)
		}
	}
}

// Every line a record logs reaches the ring, past the lines the record
// itself keeps.
func TestStoreTailGetsEveryLine(t *testing.T) {
	s, err := NewStore(10, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := s.New(Spec{ID: "inv1", Function: "loud", Kind: "sync", MaxAttempts: 1})
	n := r.StartAttempt()
	for k := range MaxLogLines + 5 {
		r.Log(n, k%2 == 0, []byte(fmt.Sprint(k)))
	}
	got := s.Tail(TailQuery{HasSince: true, Function: "loud"})
	if len(got.Lines) != MaxLogLines+5 || got.Next != MaxLogLines+5 {
		t.Fatalf("tail has %d lines, next %d; want %d", len(got.Lines), got.Next, MaxLogLines+5)
	}
	first := got.Lines[0]
	if first.ID != "inv1" || first.Function != "loud" || first.Attempt != 1 || first.Stream != "stderr" || first.Line != "0" {
		t.Fatalf("first line = %+v", first)
	}
	if v := r.View(); len(v.Logs) != MaxLogLines || v.LogsCut != 5 {
		t.Fatalf("record keeps %d lines, cut %d", len(v.Logs), v.LogsCut)
	}
}
