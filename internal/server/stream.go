package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// DefaultMaxStream is Netlify's limit on a streamed response body: 20 MB
// (https://docs.netlify.com/build/functions/configuration, "Streamed
// response payload"), against 6 MB for a buffered one.
const DefaultMaxStream = 20 << 20

// streamEnd is how a streamed answer ended on bgfn's side.
type streamEnd struct {
	sent      int64
	firstByte time.Duration
	// cut is the error that cut the body short (the function's stream
	// failed, a timeout, the worker exited); limit is set when the body
	// passed MaxStream; gone when the client went away.
	cut   error
	limit bool
	gone  bool
}

// serveStream passes a streamed body to the client chunk by chunk, each
// flushed as it comes (chunked transfer encoding), so Server-Sent Events
// and the like arrive as the function writes them. A client that goes
// away aborts the function's stream (its request signal aborts). The
// record keeps the status, the headers and the bytes streamed, not the
// body. When waitUntil work goes on after the body (or the body was cut),
// the invocation is finished in the background: the client must see the
// end of the answer at once.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, name, short string, res *runtime.Result, rep *reply, rec *records.Record, pid int, start time.Time, endLog func()) {
	h := w.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	h.Set("X-Bgfn-Invocation-Id", rec.ID())
	h.Del("Content-Length")
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil
	}
	rc := http.NewResponseController(w)
	w.WriteHeader(rep.status)
	rc.Flush()
	end := s.pump(w, r, rc, res.Stream, start)
	took := time.Since(start)

	resp := rep.record()
	resp.Streamed, resp.BodySize = true, int(end.sent)
	resp.FirstByteMs = float64(end.firstByte) / float64(time.Millisecond)
	rec.SetStatusCode(rep.status)
	rec.SetResponse(resp)

	method, uri := r.Method, r.URL.RequestURI()
	finish := func() {
		after := res.Wait()
		endLog()
		t := logs.Timing{Response: took, FirstByte: end.firstByte, Streamed: true, Bytes: end.sent}
		if res.Deferred() {
			t.Deferred = time.Since(start) - took
		}
		failure := end.cut
		note := ""
		switch {
		case end.limit:
			failure = &runtime.FunctionError{Type: "StreamLimitExceeded", Message: streamLimitMessage(name, s.opts.MaxStream)}
			note = "cut at " + humanBytes(s.opts.MaxStream)
		case end.gone:
			note = "the client closed the connection"
		}
		if failure == nil {
			failure = after
		}
		s.finishAfter(name, short, method, uri, rec, pid, rep.status, t, failure, note)
	}
	if end.cut == nil && !end.limit && !end.gone && !res.Stream.Waiting() {
		// The function is done: the invocation ends now, before the
		// client sees the end of the body (nothing is left to wait for).
		finish()
		return
	}
	s.active.Add(1)
	go func() {
		defer s.active.Done()
		finish()
	}()
	if end.cut != nil || end.limit {
		// The client must not take a cut body for a whole one.
		panic(http.ErrAbortHandler)
	}
}

// pump copies the stream to the client until it ends, is cut, passes the
// limit, or the client goes away.
func (s *Server) pump(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, st *runtime.BodyStream, start time.Time) streamEnd {
	var end streamEnd
	ctx := r.Context()
	limit := s.opts.MaxStream
	for {
		chunk, err := st.Next(ctx)
		switch {
		case errors.Is(err, io.EOF):
			if end.sent == 0 {
				end.firstByte = time.Since(start)
			}
			return end
		case err != nil && ctx.Err() != nil:
			st.Abort()
			end.gone = true
			return end
		case err != nil:
			end.cut = err
			return end
		}
		if end.sent+int64(len(chunk)) > limit {
			chunk = chunk[:limit-end.sent]
			end.limit = true
		}
		if r.Method != http.MethodHead {
			if _, err := w.Write(chunk); err != nil {
				st.Abort()
				end.gone = true
				return end
			}
			rc.Flush()
		}
		if end.sent == 0 {
			end.firstByte = time.Since(start)
		}
		end.sent += int64(len(chunk))
		if end.limit {
			st.Abort()
			return end
		}
	}
}

// serveDeferred sends a whole answer at once and finishes the invocation
// when its context.waitUntil work has settled, in the background: the
// client has its answer, the END line and the record say how long each
// part took, and what the deferred work prints belongs to the invocation.
func (s *Server) serveDeferred(w http.ResponseWriter, r *http.Request, name, short string, res *runtime.Result, rep *reply, rec *records.Record, pid int, start time.Time, endLog func()) {
	rec.SetStatusCode(rep.status)
	rec.SetResponse(rep.record())
	writeReply(w, r, rep, rec.ID())
	http.NewResponseController(w).Flush()
	took := time.Since(start)
	method, uri := r.Method, r.URL.RequestURI()
	s.active.Add(1)
	go func() {
		defer s.active.Done()
		after := res.Wait()
		endLog()
		t := logs.Timing{Response: took, Deferred: time.Since(start) - took}
		s.finishAfter(name, short, method, uri, rec, pid, rep.status, t, after, "")
	}()
}

// finishAfter ends the record of an invocation that went on after its
// answer, and prints its END line (with the error that ended it, if any).
func (s *Server) finishAfter(name, short, method, uri string, rec *records.Record, pid, status int, t logs.Timing, failure error, note string) {
	rec.SetTiming(t.Response, t.Deferred)
	if failure == nil {
		rec.EndAttempt(records.Succeeded, pid, nil)
		rec.Finish(records.Succeeded)
	} else {
		fe := functionError(failure)
		st := records.Failed
		if runtime.IsTimeout(failure) {
			st = records.TimedOut
		}
		if p := runtime.PidOf(failure); p != 0 {
			pid = p
		}
		s.writeFunctionErrorLines(name, short, fe)
		rec.EndAttempt(st, pid, recordError(fe))
		rec.Finish(st)
		if note == "" {
			note = "failed after its response"
		}
	}
	if !s.opts.Quiet {
		s.opts.Printer.RequestDeferred(name, short, method, uri, status, t, note)
	}
}

func streamLimitMessage(name string, limit int64) string {
	return fmt.Sprintf("function %s streamed more than %s, Netlify's limit for a streamed response, so bgfn cut the response there. Stream less (or send a link to the data), or run bgfn dev --no-limits to lift the limit locally.", name, humanBytes(limit))
}
