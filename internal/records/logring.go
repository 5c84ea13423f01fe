package records

import "sync"

// LogRingSize is how many of the newest log lines, of every function, the
// store keeps for tails (GET /.bgfn/api/logs, the MCP tail_logs tool). A
// line is at most MaxLogLineLen, so the ring holds at most 40 MB; it is
// usually a small part of that.
const LogRingSize = 10000

// TailLine is one log line in the ring: the line, the invocation that
// printed it, and its sequence number. Sequence numbers start at 1 and
// grow by one for every line any function prints, so a poller that asks
// for the lines after the last one it saw misses none, and knows how many
// it missed when the ring dropped them first.
type TailLine struct {
	Seq      int64  `json:"seq"`
	ID       string `json:"id"`
	Function string `json:"function"`
	LogLine
}

// TailQuery selects lines from the ring.
type TailQuery struct {
	// Since is the cursor: the lines after it are returned. Without
	// HasSince the page starts at the oldest line held and nothing counts
	// as missed (the caller asked for no particular line).
	Since    int64
	HasSince bool
	// Function keeps only that function's lines.
	Function string
	// Limit bounds the lines returned (0: no bound).
	Limit int
}

// Tail is a page of the ring.
type Tail struct {
	Lines []TailLine `json:"lines"`
	// Next is the cursor to pass as since on the next call.
	Next int64 `json:"next"`
	// Missed counts lines after the cursor that the ring dropped before
	// this call could return them: the poller fell more than LogRingSize
	// lines behind. With a function filter it is 0 when none of that
	// function's lines were dropped, and otherwise counts the dropped
	// lines of every function (the ring does not keep what it drops, so
	// it cannot tell how many of them were that function's).
	Missed int64 `json:"missed"`
	// More is set when the limit cut the page short: call again at once.
	More bool `json:"more"`
	// Reset is set when the cursor was ahead of every line written: the
	// server restarted since the cursor was handed out, and the page
	// starts at the oldest line of the new one.
	Reset bool `json:"reset,omitempty"`
	// Latest is the sequence number of the newest line (0: none yet).
	Latest int64 `json:"latest"`
}

// logRing is a bounded ring of the newest lines.
type logRing struct {
	mu     sync.Mutex
	size   int
	buf    []TailLine
	latest int64
	// dropped holds, per function, the sequence number of its newest line
	// that the ring has dropped.
	dropped map[string]int64
}

func newLogRing(size int) *logRing {
	return &logRing{size: max(size, 1), dropped: make(map[string]int64)}
}

func (r *logRing) add(id, function string, l LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest++
	e := TailLine{Seq: r.latest, ID: id, Function: function, LogLine: l}
	if len(r.buf) < r.size {
		r.buf = append(r.buf, e)
		return
	}
	k := (r.latest - 1) % int64(r.size)
	old := r.buf[k]
	r.dropped[old.Function] = old.Seq
	r.buf[k] = e
}

func (r *logRing) tail(q TailQuery) Tail {
	r.mu.Lock()
	defer r.mu.Unlock()
	oldest := r.latest - int64(len(r.buf)) + 1
	t := Tail{Lines: []TailLine{}, Latest: r.latest}
	start := oldest
	if q.HasSince {
		start = q.Since + 1
		switch {
		case q.Since > r.latest:
			t.Reset = true
			start = oldest
		case start < oldest:
			t.Missed = oldest - start
			if q.Function != "" && r.dropped[q.Function] <= q.Since {
				t.Missed = 0
			}
			start = oldest
		}
	}
	t.Next = start - 1
	for seq := start; seq <= r.latest; seq++ {
		if q.Limit > 0 && len(t.Lines) >= q.Limit {
			t.More = true
			break
		}
		t.Next = seq
		e := r.buf[(seq-1)%int64(r.size)]
		if q.Function != "" && e.Function != q.Function {
			continue
		}
		t.Lines = append(t.Lines, e)
	}
	return t
}
