package logs_test

import (
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/bgfn-dev/bgfn/internal/logs"
)

func TestSplitLines(t *testing.T) {
	long := strings.Repeat("x", logs.MaxLine)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "empty input", in: "", want: nil},
		{name: "one line", in: "hello\n", want: []string{"hello"}},
		{name: "several lines", in: "a\nb\nc\n", want: []string{"a", "b", "c"}},
		{name: "CRLF", in: "a\r\nb\r\n", want: []string{"a", "b"}},
		{name: "CR inside a line is kept", in: "a\rb\n", want: []string{"a\rb"}},
		{name: "empty lines", in: "\n\n", want: []string{"", ""}},
		{name: "trailing partial line", in: "a\nb", want: []string{"a", "b"}},
		{name: "only a partial line", in: "partial", want: []string{"partial"}},
		{name: "partial line ending in CR", in: "a\r", want: []string{"a\r"}},
		{name: "line one byte over MaxLine", in: long + "y\n", want: []string{long, "y"}},
		{name: "line over twice MaxLine", in: long + long + "tail\nnext\n", want: []string{long, long, "tail", "next"}},
		{name: "unterminated line over MaxLine", in: long + "tail", want: []string{long, "tail"}},
		// A line of exactly MaxLine bytes is not longer than MaxLine: it
		// is one line, with no empty line after it.
		{name: "line of exactly MaxLine", in: long + "\nnext\n", want: []string{long, "next"}},
		{name: "line of exactly MaxLine with CRLF", in: long[1:] + "\r\nnext\n", want: []string{long[1:], "next"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range []struct {
				name string
				r    func(string) io.Reader
			}{
				{"whole", func(s string) io.Reader { return strings.NewReader(s) }},
				{"byte by byte", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
			} {
				var got []string
				err := logs.SplitLines(rd.r(tt.in), func(line []byte) { got = append(got, string(line)) })
				if err != nil {
					t.Fatalf("%s: SplitLines: %v", rd.name, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s: lines = %s, want %s", rd.name, describe(got), describe(tt.want))
				}
			}
		})
	}
}

func TestSplitLinesReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\npart"), iotest.ErrReader(boom))
	var got []string
	err := logs.SplitLines(r, func(line []byte) { got = append(got, string(line)) })
	if !errors.Is(err, boom) {
		t.Fatalf("SplitLines error = %v, want %v", err, boom)
	}
	if want := []string{"a", "part"}; !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q (the partial line flushed before the error)", got, want)
	}
}

// describe shortens long lines so a failure stays readable.
func describe(lines []string) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		if len(l) > 20 {
			parts[i] = strconv.Quote(l[:8]) + "…(" + strconv.Itoa(len(l)) + " bytes)"
			continue
		}
		parts[i] = strconv.Quote(l)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
