package runtime

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"strconv"
	"sync"
)

// Flow control of streamed responses (nodeboot/PROTOCOL.md, "Streamed
// responses"): a worker may have streamWindow bytes of chunks that bgfn
// has not taken, each chunk costing its length plus chunkCost, so a slow
// client holds the function back instead of filling bgfn's memory.
const (
	streamWindow = 1 << 20
	chunkCost    = 256
)

// BodyStream is a response body that the function streams (Result.Stream):
// its chunks in order, as the function writes them. One goroutine reads
// it with Next; Abort may be called from any goroutine.
type BodyStream struct {
	mu      sync.Mutex
	chunks  [][]byte
	ended   bool
	err     error
	aborted bool
	// waiting is set with the end when waitUntil work goes on after it.
	waiting bool
	owed    int
	wake    chan struct{}

	id     string
	prefix string                  // `{"inst":N,` for a thread, `{` for a process
	send   func(line []byte) error // writes a control line to the worker
}

func newStream(id, prefix string, send func([]byte) error) *BodyStream {
	return &BodyStream{id: id, prefix: prefix, send: send, wake: make(chan struct{}, 1)}
}

func (s *BodyStream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push adds a chunk the worker wrote; it never blocks (the window bounds
// what can arrive). Chunks after an abort are dropped.
func (s *BodyStream) push(b []byte) {
	s.mu.Lock()
	if !s.ended && !s.aborted {
		s.chunks = append(s.chunks, b)
	}
	s.mu.Unlock()
	s.signal()
}

// finish ends the stream: err nil is a clean end, otherwise what cut it
// (the function's stream failed, a timeout, the worker exited). The first
// call wins.
func (s *BodyStream) finish(err error) {
	s.mu.Lock()
	if !s.ended {
		s.ended, s.err = true, err
	}
	s.mu.Unlock()
	s.signal()
}

// end ends the stream as its end message says: err as for finish, and
// whether waitUntil work goes on after it.
func (s *BodyStream) end(err error, waiting bool) {
	s.mu.Lock()
	s.waiting = waiting
	s.mu.Unlock()
	s.finish(err)
}

// Waiting reports whether the function's waitUntil work goes on after
// the end of the stream; it is known once Next has returned io.EOF.
func (s *BodyStream) Waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// Next returns the next chunk; io.EOF once the function has ended the
// stream and every chunk was taken; the error that cut it; or ctx's error
// when ctx ends first. Taking chunks gives the function credit to write
// more.
func (s *BodyStream) Next(ctx context.Context) ([]byte, error) {
	for {
		s.mu.Lock()
		if len(s.chunks) > 0 {
			c := s.chunks[0]
			s.chunks[0] = nil
			s.chunks = s.chunks[1:]
			s.owed += len(c) + chunkCost
			grant := 0
			// Credit goes back in batches, and at once when bgfn has
			// nothing left, so the function is never starved.
			if s.owed >= streamWindow/4 || len(s.chunks) == 0 {
				grant, s.owed = s.owed, 0
			}
			s.mu.Unlock()
			if grant > 0 {
				s.control("credit", grant)
			}
			return c, nil
		}
		if s.ended {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				return nil, io.EOF
			}
			return nil, err
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Abort tells the function that the client went away (or a limit was
// hit): it cancels the body's stream and aborts the v2 request's signal.
// Chunks still coming are dropped; the invocation ends when the function's
// stream has ended.
func (s *BodyStream) Abort() {
	s.mu.Lock()
	if s.aborted || s.ended {
		s.aborted = true
		s.mu.Unlock()
		return
	}
	s.aborted = true
	s.chunks = nil
	s.mu.Unlock()
	s.control("abort", 0)
}

// control writes a credit or abort line for the stream to the worker. A
// worker that is gone ends the stream some other way, so errors are
// dropped.
func (s *BodyStream) control(typ string, n int) {
	b := make([]byte, 0, 64+len(s.id))
	b = append(b, s.prefix...)
	b = append(b, `"type":"`...)
	b = append(b, typ...)
	b = append(b, `","id":`...)
	b = strconv.AppendQuote(b, s.id)
	if n > 0 {
		b = append(b, `,"n":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, "}\n"...)
	s.send(b)
}

// chunkPrefix starts every chunk line (after a thread's instance number).
var chunkPrefix = []byte(`"type":"chunk","id":"`)

// parseChunk decodes a chunk line without its leading `{` (and instance
// number): `"type":"chunk","id":"ID","d":"BASE64"}`. The bytes are a new
// slice.
func parseChunk(rest []byte) (id string, data []byte, ok bool) {
	rest, ok = bytes.CutPrefix(rest, chunkPrefix)
	if !ok {
		return "", nil, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", nil, false
	}
	id = string(rest[:end])
	rest, ok = bytes.CutPrefix(rest[end+1:], []byte(`,"d":"`))
	if !ok {
		return "", nil, false
	}
	rest = bytes.TrimRight(rest, "\n")
	b64, ok := bytes.CutSuffix(rest, []byte(`"}`))
	if !ok {
		return "", nil, false
	}
	data = make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(data, b64)
	if err != nil {
		return "", nil, false
	}
	return id, data[:n], true
}

// exitCall is what the bootstrap says just before process.exit ends an
// instance: the invocation that was running ("" for none) and the code.
type exitCall struct {
	id   string
	code int
}

// afterResponse decides what an exit means for an invocation whose
// response has been sent (a waitUntil still running, or a stream after
// its head): an exit with code 0 that this invocation made ends it
// normally (as @netlify/async-workloads does in development); any other
// is a failure.
func afterResponse(call *exitCall, id string, err error) error {
	if call != nil && call.id == id && call.code == 0 {
		return nil
	}
	return err
}

// Wait waits until the invocation has ended: at once for most, after its
// waitUntil work or its streamed body otherwise. It returns what ended the
// work after the response, when something did (a timeout, the worker
// exiting); nil when it finished.
func (r *Result) Wait() error {
	if r.pending == nil {
		return nil
	}
	<-r.pending
	return r.after
}

// Deferred reports whether context.waitUntil work kept the invocation
// going after its response; it is known once Wait has returned.
func (r *Result) Deferred() bool { return r.deferred }

// Pending reports whether the invocation goes on after its response (v2
// waitUntil work, or a streamed body).
func (r *Result) Pending() bool { return r.pending != nil }
