package logs

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestInvocationLog(t *testing.T) {
	tests := []struct {
		name               string
		maxLines, maxBytes int64
		lines              []string
		want               string
		wantDropped        int64
	}{
		{
			name:     "under the limits",
			maxLines: 3, maxBytes: 100,
			lines: []string{"a", "b"},
			want:  "f#1 | a\nf#1 | b\n",
		},
		{
			name:     "at the line limit",
			maxLines: 2, maxBytes: 100,
			lines: []string{"a", "b"},
			want:  "f#1 | a\nf#1 | b\n",
		},
		{
			name:     "over the line limit",
			maxLines: 2, maxBytes: 100,
			lines: []string{"a", "b", "c", "d", "e"},
			want: "f#1 | a\nf#1 | b\n" +
				"f#1 … output over 2 lines or 100 bytes: the rest of this invocation's lines are counted, not shown\n" +
				"f#1 … 3 lines dropped\n",
			wantDropped: 3,
		},
		{
			// Each line counts its newline: "aaaa\n" is 5 bytes.
			name:     "over the byte limit",
			maxLines: 100, maxBytes: 10,
			lines: []string{"aaaa", "bbbb", "c", "d"},
			want: "f#1 | aaaa\nf#1 | bbbb\n" +
				"f#1 … output over 100 lines or 10 bytes: the rest of this invocation's lines are counted, not shown\n" +
				"f#1 … 2 lines dropped\n",
			wantDropped: 2,
		},
		{
			name:     "one line longer than the byte limit",
			maxLines: 100, maxBytes: 1 << 10,
			lines: []string{strings.Repeat("x", 2<<10), "short"},
			want: "f#1 … output over 100 lines or 1 KB: the rest of this invocation's lines are counted, not shown\n" +
				"f#1 … 2 lines dropped\n",
			wantDropped: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := NewPrinter(&out, false)
			l := p.InvocationLog("f", "1")
			l.maxLines, l.maxBytes = tt.maxLines, tt.maxBytes
			for _, line := range tt.lines {
				l.Line([]byte(line))
			}
			l.End()
			p.Flush()
			if got := out.String(); got != tt.want {
				t.Errorf("printed:\n%s\nwant:\n%s", got, tt.want)
			}
			if l.Dropped() != tt.wantDropped {
				t.Errorf("Dropped() = %d, want %d", l.Dropped(), tt.wantDropped)
			}
		})
	}
}

// TestInvocationLogConcurrent writes from two goroutines, as a worker's
// stdout and stderr readers do: exactly the limit is printed and every
// other line counted.
func TestInvocationLogConcurrent(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, false)
	l := p.InvocationLog("f", "1")
	l.maxLines = 1000
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := range 5000 {
				l.Line(fmt.Appendf(nil, "g%d line %d", g, i))
			}
		})
	}
	wg.Wait()
	l.End()
	p.Flush()
	printed := strings.Count(out.String(), " | ")
	if printed != 1000 || l.Dropped() != 9000 {
		t.Errorf("%d lines printed and %d dropped, want 1000 and 9000", printed, l.Dropped())
	}
	if !strings.HasSuffix(out.String(), "f#1 … 9,000 lines dropped\n") {
		t.Errorf("output does not end with the count: %q", out.String()[max(0, out.Len()-200):])
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 98765: "98,765", 1234567: "1,234,567", -5: "-5"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
