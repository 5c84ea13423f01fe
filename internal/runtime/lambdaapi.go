package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Runtime API is served by a small HTTP/1.1 loop of its own instead of
// net/http's Server: each invocation costs two exchanges with the program
// (GET /next, POST /response), and per request net/http's server starts a
// background read to watch for the peer going away, sets and clears read
// deadlines, routes through a ServeMux, formats a Date and sorts the
// header. Here one goroutine per connection parses requests with
// http.ReadRequest (net/http's own parser, so framing, chunked bodies and
// trailers stay exact) and writes each answer in a single write with an
// explicit Content-Length, so the program's client always reads it in
// one piece (issue 19).

// Runtime API and extension API paths.
const (
	rapiNextPath       = "/2018-06-01/runtime/invocation/next"
	rapiInvocationRoot = "/2018-06-01/runtime/invocation/"
	rapiInitErrorPath  = "/2018-06-01/runtime/init/error"
	extRegisterPath    = "/2020-01-01/extension/register"
	extEventNextPath   = "/2020-01-01/extension/event/next"
)

// rapiAnswer is one answer of the Runtime API.
type rapiAnswer struct {
	status int
	header []string // name, value pairs
	body   []byte
	// close ends the connection after the answer: the request's body was
	// not read to its end.
	close bool
}

// accepted is the answer aws-lambda-go insists on for /response, /error and
// /init/error: exactly 202, or it exits.
var accepted = &rapiAnswer{status: http.StatusAccepted}

// appendTo appends the answer as an HTTP/1.1 response to b; a HEAD request
// gets the header alone.
func (a *rapiAnswer) appendTo(b []byte, head bool) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(a.status)...)
	b = append(b, "\r\n"...)
	for i := 0; i+1 < len(a.header); i += 2 {
		b = append(b, a.header[i]...)
		b = append(b, ": "...)
		b = appendFieldValue(b, a.header[i+1])
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(a.body)), 10)
	if a.close {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\n\r\n"...)
	if !head {
		b = append(b, a.body...)
	}
	return b
}

// appendFieldValue appends a header value with CR and LF turned into
// spaces, as net/http does, so no value can end the header early.
func appendFieldValue(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\r\n") {
		return append(b, v...)
	}
	return append(b, strings.NewReplacer("\r", " ", "\n", " ").Replace(v)...)
}

// jsonAnswer is a 200-or-other answer with a JSON body.
func jsonAnswer(status int, body []byte, header ...string) *rapiAnswer {
	return &rapiAnswer{status: status, header: append([]string{"Content-Type", "application/json"}, header...), body: body}
}

// runtimeAPIError is Lambda's error answer.
func runtimeAPIError(status int, typ, msg string) *rapiAnswer {
	b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": typ})
	return jsonAnswer(status, b)
}

// invalidRequestID refuses an answer to an invocation that is not the
// program's current one (it does not exist, or was already answered), as
// Lambda does. Accepting it would let a second answer look delivered.
func invalidRequestID() *rapiAnswer {
	return runtimeAPIError(http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
}

// serveAPI accepts the program's connections until the listener closes.
func (w *lambdaWorker) serveAPI(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !w.trackConn(c, true) {
			c.Close()
			return
		}
		go w.serveConn(c)
	}
}

// trackConn adds c to the worker's open connections, or removes and
// closes it. Adding fails once the API has been closed.
func (w *lambdaWorker) trackConn(c net.Conn, add bool) bool {
	w.connMu.Lock()
	defer w.connMu.Unlock()
	if !add {
		delete(w.conns, c)
		c.Close()
		return true
	}
	if w.conns == nil {
		return false
	}
	w.conns[c] = struct{}{}
	return true
}

// closeAPI stops the Runtime API: no new connections, and the open ones
// are closed.
func (w *lambdaWorker) closeAPI() {
	if w.ln != nil {
		w.ln.Close()
	}
	w.connMu.Lock()
	defer w.connMu.Unlock()
	for c := range w.conns {
		c.Close()
	}
	w.conns = nil
}

// serveConn answers the requests of one connection in order, each with a
// single write. A GET /next is not answered here: it joins w.polls, and
// the goroutine that invokes writes the invocation to the connection
// itself (answerPoll), so no goroutine hand-off stands between a request
// and the program. Meanwhile this loop reads on, and sees the program
// hang up while it waits.
func (w *lambdaWorker) serveConn(c net.Conn) {
	defer w.trackConn(c, false)
	br := bufio.NewReader(c)
	var out []byte
	var pending *rapiPoll
	for {
		r, err := http.ReadRequest(br)
		if err != nil {
			if pending != nil {
				w.withdrawPoll(pending)
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && pending == nil {
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		if pending != nil {
			// Answers go out in the order of the requests.
			select {
			case <-pending.answered:
			case <-w.done:
				return
			}
			pending = nil
		}
		if r.URL.Path == rapiNextPath && r.Method == http.MethodGet {
			w.pollOnce.Do(func() { close(w.polled) })
			pending = w.addPoll(c)
			if !r.Close && r.Body.Close() == nil {
				continue
			}
			// The connection ends with this answer.
			select {
			case <-pending.answered:
			case <-w.done:
			}
			return
		}
		if r.Header.Get("Expect") == "100-continue" && r.ContentLength != 0 {
			// As net/http's server would: the client holds the body back
			// until told to go on.
			if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
				return
			}
		}
		a := w.answer(r)
		if a == nil {
			return // a long poll ended with the worker
		}
		out = a.appendTo(out[:0], r.Method == http.MethodHead)
		if _, err := c.Write(out); err != nil {
			return
		}
		// Close reads what the handler left of the body, so the next
		// request starts where it should.
		if a.close || r.Close || r.Body.Close() != nil {
			return
		}
	}
}

// rapiPoll is a GET /next waiting for an invocation.
type rapiPoll struct {
	c        net.Conn
	answered chan struct{} // closed once answerPoll has written to c
}

// addPoll queues a /next that came in on c.
func (w *lambdaWorker) addPoll(c net.Conn) *rapiPoll {
	p := &rapiPoll{c: c, answered: make(chan struct{})}
	w.mu.Lock()
	w.polls = append(w.polls, p)
	w.mu.Unlock()
	select {
	case w.pollReady <- struct{}{}:
	default:
	}
	return p
}

// withdrawPoll drops p: its connection ended before an invocation came.
func (w *lambdaWorker) withdrawPoll(p *rapiPoll) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, q := range w.polls {
		if q == p {
			w.polls = append(w.polls[:i], w.polls[i+1:]...)
			return
		}
	}
}

// takePoll returns the oldest waiting /next, or nil.
func (w *lambdaWorker) takePoll() *rapiPoll {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.polls) == 0 {
		return nil
	}
	p := w.polls[0]
	w.polls = append(w.polls[:0], w.polls[1:]...)
	if len(w.polls) > 0 {
		// Another waiter may want the next one.
		select {
		case w.pollReady <- struct{}{}:
		default:
		}
	}
	return p
}

// Why handOver gave up.
var (
	errWorkerDone = errors.New("worker ended")
	errTimedOut   = errors.New("timed out")
)

// handOver answers the program's oldest /next with inv, waiting for one
// until the worker ends (errWorkerDone), timeout fires (errTimedOut) or
// ctx ends (its error).
func (w *lambdaWorker) handOver(ctx context.Context, inv *lambdaInvocation, timeout <-chan time.Time) error {
	for {
		if p := w.takePoll(); p != nil {
			if w.answerPoll(p, inv) {
				return nil
			}
			continue // that connection is gone: the next /next gets it
		}
		select {
		case <-w.pollReady:
		case <-w.done:
			return errWorkerDone
		case <-timeout:
			return errTimedOut
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// answerPoll writes inv to the connection of p. It reports false if the
// write failed: the program never saw inv, and inv is not current.
func (w *lambdaWorker) answerPoll(p *rapiPoll, inv *lambdaInvocation) bool {
	defer close(p.answered)
	// Current before the write: the answer may come back before Write
	// returns.
	w.mu.Lock()
	w.cur = inv
	w.mu.Unlock()
	if _, err := p.c.Write(w.nextAnswer(inv).appendTo(nil, false)); err != nil {
		w.mu.Lock()
		if w.cur == inv {
			w.cur = nil
		}
		w.mu.Unlock()
		return false
	}
	return true
}

// answer routes one request. It returns nil only when a long poll ended
// because the worker did.
func (w *lambdaWorker) answer(r *http.Request) *rapiAnswer {
	path := r.URL.Path
	switch path {
	case rapiNextPath:
		return notAllowed(http.MethodGet) // a GET never gets here
	case rapiInitErrorPath:
		if r.Method != http.MethodPost {
			return notAllowed(http.MethodPost)
		}
		return w.answerInitError(r)
	case extRegisterPath:
		if r.Method != http.MethodPost {
			return notAllowed(http.MethodPost)
		}
		return w.answerRegister()
	case extEventNextPath:
		if r.Method != http.MethodGet {
			return notAllowed(http.MethodGet)
		}
		return w.answerEventNext()
	}
	id, what, ok := strings.Cut(strings.TrimPrefix(path, rapiInvocationRoot), "/")
	if !ok || len(id) == len(path) || id == "" || (what != "response" && what != "error") {
		return &rapiAnswer{status: http.StatusNotFound, header: []string{"Content-Type", "text/plain; charset=utf-8"}, body: []byte("404 page not found\n")}
	}
	if r.Method != http.MethodPost {
		return notAllowed(http.MethodPost)
	}
	if what == "response" {
		return w.answerResponse(id, r)
	}
	return w.answerError(id, r)
}

// notAllowed answers a known path asked with the wrong method.
func notAllowed(method string) *rapiAnswer {
	return &rapiAnswer{status: http.StatusMethodNotAllowed, header: []string{"Allow", method, "Content-Type", "text/plain; charset=utf-8"}, body: []byte("Method Not Allowed\n")}
}

// nextAnswer is the /next answer that carries inv.
func (w *lambdaWorker) nextAnswer(inv *lambdaInvocation) *rapiAnswer {
	id := inv.req.ID
	h := make([]string, 0, 12)
	h = append(h,
		"Lambda-Runtime-Aws-Request-Id", id,
		"Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10),
		"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+w.region()+":000000000000:function:"+w.cfg.Name,
		"Lambda-Runtime-Trace-Id", "Root=1-"+id+";Parent=0000000000000000;Sampled=0",
	)
	if len(inv.req.ClientContext) > 0 {
		h = append(h, "Lambda-Runtime-Client-Context", string(inv.req.ClientContext))
	}
	return jsonAnswer(http.StatusOK, inv.req.Event, h...)
}

// answerResponse takes the program's answer to invocation id.
func (w *lambdaWorker) answerResponse(id string, r *http.Request) *rapiAnswer {
	inv := w.current(id)
	if inv == nil {
		return invalidRequestID()
	}
	limit := w.maxResponse()
	rd := io.Reader(r.Body)
	if limit >= 0 {
		rd = io.LimitReader(r.Body, limit+1)
	}
	body, err := io.ReadAll(rd)
	switch {
	case err != nil:
		inv.result <- lambdaOutcome{err: &FunctionError{Type: "Runtime.TruncatedResponse", Message: "the function's response could not be read: " + err.Error()}}
		a := runtimeAPIError(http.StatusBadRequest, "InvalidRequest", "read response: "+err.Error())
		a.close = true
		return a
	case limit >= 0 && int64(len(body)) > limit:
		inv.result <- lambdaOutcome{err: &FunctionError{
			Type:    "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit),
		}}
		a := runtimeAPIError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", limit))
		a.close = true // the rest of the body stays unread
		return a
	}
	inv.result <- lambdaOutcome{response: body}
	return accepted
}

// answerError takes the program's error for invocation id.
func (w *lambdaWorker) answerError(id string, r *http.Request) *rapiAnswer {
	inv := w.current(id)
	if inv == nil {
		return invalidRequestID()
	}
	inv.result <- lambdaOutcome{err: decodeLambdaError(r)}
	return accepted
}

// answerInitError takes the error of a program that could not start.
func (w *lambdaWorker) answerInitError(r *http.Request) *rapiAnswer {
	fe := decodeLambdaError(r)
	select {
	case w.initErr <- fe:
	default:
	}
	return accepted
}

// answerRegister registers aws-lambda-go's SIGTERM extension.
func (w *lambdaWorker) answerRegister() *rapiAnswer {
	name := w.cfg.Name
	body := `{"functionName":` + strconv.Quote(name) + `,"functionVersion":"$LATEST","handler":"bootstrap"}`
	return jsonAnswer(http.StatusOK, []byte(body), "Lambda-Extension-Identifier", "bgfn-"+name)
}

// answerEventNext is the extension's event stream: SHUTDOWN when the
// worker is stopped.
func (w *lambdaWorker) answerEventNext() *rapiAnswer {
	select {
	case <-w.shutdown:
		body := `{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":` + strconv.FormatInt(time.Now().Add(2*time.Second).UnixMilli(), 10) + `}`
		return jsonAnswer(http.StatusOK, []byte(body))
	case <-w.done:
		return nil
	}
}
