package logs_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// ansi matches SGR escape sequences.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestSink(t *testing.T) {
	tests := []struct {
		name  string
		width int
		write func(s *logs.Sink)
		want  string // without escapes
		// plain is set when nothing is styled: Line and Lines print
		// already formatted text as is.
		plain bool
	}{
		{
			name:  "function line",
			write: func(s *logs.Sink) { s.FunctionLine("hello", "ab12", []byte("hi there")) },
			want:  "hello#ab12 | hi there\n",
		},
		{
			name:  "function line without id",
			write: func(s *logs.Sink) { s.FunctionLine("hello", "", []byte("hi")) },
			want:  "hello | hi\n",
		},
		{
			name:  "empty function line",
			write: func(s *logs.Sink) { s.FunctionLine("hello", "ab12", nil) },
			want:  "hello#ab12 | \n",
		},
		{
			name:  "function line padded",
			width: 16,
			write: func(s *logs.Sink) { s.FunctionLine("hello", "ab12", []byte("hi")) },
			want:  "hello#ab12       | hi\n",
		},
		{
			name:  "width shorter than the prefix",
			width: 4,
			write: func(s *logs.Sink) { s.FunctionLine("hello", "ab12", []byte("hi")) },
			want:  "hello#ab12 | hi\n",
		},
		{
			name:  "names line up",
			width: 22,
			write: func(s *logs.Sink) {
				s.FunctionLine("a", "0001", []byte("one"))
				s.FunctionLine("hello-background", "0002/1", []byte("two"))
			},
			want: "a#0001                 | one\nhello-background#0002/1 | two\n",
		},
		{
			name:  "line",
			plain: true,
			write: func(s *logs.Sink) { s.Line("bgfn ready") },
			want:  "bgfn ready\n",
		},
		{
			name:  "lines",
			plain: true,
			write: func(s *logs.Sink) { s.Lines("first", "second", "third") },
			want:  "first\nsecond\nthird\n",
		},
		{
			name:  "no lines",
			plain: true,
			write: func(s *logs.Sink) { s.Lines() },
			want:  "",
		},
		{
			name:  "prefix in a line",
			width: 12,
			write: func(s *logs.Sink) { s.Line(s.Prefix("fn", "ab12") + " done") },
			want:  "fn#ab12      done\n",
		},
	}
	for _, tt := range tests {
		for _, color := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/color=%v", tt.name, color), func(t *testing.T) {
				var buf bytes.Buffer
				s := logs.NewSink(&buf, ui.NewStyles(&buf, color))
				if tt.width > 0 {
					s.SetWidth(tt.width)
				}
				tt.write(s)
				s.Flush()
				got := buf.String()
				hasESC := strings.Contains(got, "\x1b")
				if (!color || tt.plain) && hasESC {
					t.Errorf("output %q has escapes, want none", got)
				}
				if color && !tt.plain && !hasESC {
					t.Errorf("output %q has no escapes with colour on", got)
				}
				if plain := ansi.ReplaceAllString(got, ""); plain != tt.want {
					t.Errorf("output (escapes removed) = %q, want %q", plain, tt.want)
				}
			})
		}
	}
}

func TestSinkColourOnlyInPrefix(t *testing.T) {
	var buf bytes.Buffer
	s := logs.NewSink(&buf, ui.NewStyles(&buf, true))
	s.FunctionLine("hello", "ab12", []byte("plain text"))
	s.Flush()
	got := buf.String()
	_, rest, ok := strings.Cut(got, " | ")
	if !ok {
		t.Fatalf("output %q has no separator", got)
	}
	if rest != "plain text\n" {
		t.Errorf("the function's text = %q, want it unstyled", rest)
	}
}

func TestSinkPrefixColourIsStable(t *testing.T) {
	st := ui.NewStyles(&bytes.Buffer{}, true)
	a := logs.NewSink(&bytes.Buffer{}, st)
	b := logs.NewSink(&bytes.Buffer{}, ui.NewStyles(&bytes.Buffer{}, true))
	if pa, pb := a.Prefix("hello", "1"), b.Prefix("hello", "1"); pa != pb {
		t.Errorf("Prefix differs between sinks: %q vs %q", pa, pb)
	}
	if a.Styles() != st {
		t.Errorf("Styles() does not return the sink's styles")
	}
}

// TestSinkWholeLines checks that concurrent writers never interleave
// within a line.
func TestSinkWholeLines(t *testing.T) {
	var buf bytes.Buffer
	s := logs.NewSink(&buf, ui.NewStyles(&buf, false))
	const writers, lines = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			name := fmt.Sprintf("fn%d", w)
			for i := range lines {
				switch i % 3 {
				case 0:
					s.FunctionLine(name, "id", []byte(strings.Repeat(name, 50)))
				case 1:
					s.Line(name + " " + strings.Repeat(name, 50))
				default:
					s.Lines(name+" "+strings.Repeat(name, 50), name+" "+strings.Repeat(name, 50))
				}
			}
		})
	}
	wg.Wait()
	s.Flush()
	out := strings.TrimSuffix(buf.String(), "\n")
	got := strings.Split(out, "\n")
	if want := writers * (lines + lines/3); len(got) < want {
		t.Errorf("got %d lines, want at least %d", len(got), want)
	}
	line := regexp.MustCompile(`^(fn\d)(#id \| | )((fn\d){50})$`)
	for i, l := range got {
		m := line.FindStringSubmatch(l)
		if m == nil || m[3] != strings.Repeat(m[1], 50) {
			t.Fatalf("line %d is torn: %q", i, l)
		}
	}
}
