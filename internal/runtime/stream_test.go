package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseChunk(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		id     string
		data   string
		wantOK bool
	}{
		{"plain", `"type":"chunk","id":"01abc","d":"aGVsbG8="}`, "01abc", "hello", true},
		{"newline", `"type":"chunk","id":"a","d":"eA=="}` + "\n", "a", "x", true},
		{"empty data", `"type":"chunk","id":"a","d":""}`, "a", "", true},
		{"not a chunk", `"type":"result","id":"a","response":{}}`, "", "", false},
		{"escaped id", `"type":"chunk","id":"a\"b","d":"eA=="}`, "", "", false},
		{"bad base64", `"type":"chunk","id":"a","d":"!!"}`, "", "", false},
		{"cut short", `"type":"chunk","id":"a","d":"eA==`, "", "", false},
		{"no data field", `"type":"chunk","id":"a"}`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, data, ok := parseChunk([]byte(tt.line))
			if ok != tt.wantOK || id != tt.id || string(data) != tt.data {
				t.Fatalf("parseChunk(%q) = %q, %q, %v; want %q, %q, %v", tt.line, id, data, ok, tt.id, tt.data, tt.wantOK)
			}
		})
	}
}

func TestDecodeChunkLine(t *testing.T) {
	inst, data, ok := decodeChunkLine([]byte(`{"inst":12,"type":"chunk","id":"i","d":"YWI="}`))
	if !ok || inst != 12 || string(data) != "ab" {
		t.Fatalf("got %d %q %v", inst, data, ok)
	}
	if _, _, ok := decodeChunkLine([]byte(`{"inst":12,"type":"log","s":1,"d":"YWI="}`)); ok {
		t.Fatal("a log line decoded as a chunk")
	}
}

// controlLines records the control lines a BodyStream sends.
type controlLines struct {
	mu    sync.Mutex
	lines []string
}

func (c *controlLines) send(b []byte) error {
	c.mu.Lock()
	c.lines = append(c.lines, string(b))
	c.mu.Unlock()
	return nil
}

func (c *controlLines) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

func TestBodyStream(t *testing.T) {
	tests := []struct {
		name string
		// run drives the stream; it returns the chunks read and the error
		// that ended the reading.
		run       func(s *BodyStream) ([]string, error)
		wantBody  []string
		wantErr   error
		wantLines []string
	}{
		{
			name: "chunks in order, then EOF, credit once drained",
			run: func(s *BodyStream) ([]string, error) {
				s.push([]byte("a"))
				s.push([]byte("bc"))
				s.finish(nil)
				return readAll(s)
			},
			wantBody:  []string{"a", "bc"},
			wantErr:   io.EOF,
			wantLines: []string{`{"inst":3,"type":"credit","id":"i1","n":515}` + "\n"},
		},
		{
			name: "an error after the chunks",
			run: func(s *BodyStream) ([]string, error) {
				s.push([]byte("a"))
				s.finish(&FunctionError{Type: "TypeError", Message: "boom"})
				return readAll(s)
			},
			wantBody:  []string{"a"},
			wantErr:   &FunctionError{Type: "TypeError", Message: "boom"},
			wantLines: []string{`{"inst":3,"type":"credit","id":"i1","n":257}` + "\n"},
		},
		{
			name: "abort tells the worker once and drops what comes after",
			run: func(s *BodyStream) ([]string, error) {
				s.Abort()
				s.Abort()
				s.push([]byte("late"))
				s.finish(nil)
				return readAll(s)
			},
			wantErr:   io.EOF,
			wantLines: []string{`{"inst":3,"type":"abort","id":"i1"}` + "\n"},
		},
		{
			name: "a context that ends",
			run: func(s *BodyStream) ([]string, error) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(10*time.Millisecond, cancel)
				_, err := s.Next(ctx)
				return nil, err
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c controlLines
			s := newStream("i1", `{"inst":3,`, c.send)
			body, err := tt.run(s)
			if strings.Join(body, "|") != strings.Join(tt.wantBody, "|") {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
			var fe, wfe *FunctionError
			if errors.As(tt.wantErr, &wfe) {
				if !errors.As(err, &fe) || fe.Error() != wfe.Error() {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if got := c.all(); strings.Join(got, "") != strings.Join(tt.wantLines, "") {
				t.Errorf("control lines %q, want %q", got, tt.wantLines)
			}
		})
	}
}

// TestBodyStreamCreditBatches checks that credit goes back in batches
// while chunks are queued, and the rest once the queue is empty, so the
// worker gets back all it spent.
func TestBodyStreamCreditBatches(t *testing.T) {
	var c controlLines
	s := newStream("i", "{", c.send)
	const n, size = 40, 32 << 10
	for range n {
		s.push(make([]byte, size))
	}
	s.finish(nil)
	got, err := readAll(s)
	if !errors.Is(err, io.EOF) || len(got) != n {
		t.Fatalf("read %d chunks, %v", len(got), err)
	}
	lines := c.all()
	if len(lines) < 2 || len(lines) > n/4 {
		t.Fatalf("%d credit lines for %d chunks, want a few batches", len(lines), n)
	}
	total := 0
	for _, l := range lines {
		var v int
		if _, err := fmtSscan(l, &v); err != nil {
			t.Fatal(err)
		}
		total += v
	}
	if want := n * (size + chunkCost); total != want {
		t.Fatalf("credit %d in all, want %d", total, want)
	}
}

func TestAfterResponse(t *testing.T) {
	exit := &ExitError{Exit: "exited with code 0"}
	tests := []struct {
		name string
		call *exitCall
		want error
	}{
		{"its own exit with code 0 ends it normally", &exitCall{id: "a", code: 0}, nil},
		{"a non-zero code fails it", &exitCall{id: "a", code: 3}, exit},
		{"no exit call (a crash) fails it", nil, exit},
		{"another invocation's exit fails it", &exitCall{id: "b", code: 0}, exit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := afterResponse(tt.call, "a", exit); got != tt.want {
				t.Fatalf("afterResponse = %v, want %v", got, tt.want)
			}
		})
	}
}

func readAll(s *BodyStream) ([]string, error) {
	var out []string
	for {
		b, err := s.Next(context.Background())
		if err != nil {
			return out, err
		}
		out = append(out, string(b))
	}
}

// fmtSscan reads the "n" of a credit line.
func fmtSscan(line string, n *int) (int, error) {
	_, rest, ok := strings.Cut(line, `"n":`)
	if !ok {
		return 0, errors.New("no n in " + line)
	}
	return fmt.Sscanf(strings.TrimSuffix(strings.TrimSpace(rest), "}"), "%d", n)
}
