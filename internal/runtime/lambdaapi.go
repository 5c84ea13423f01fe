package runtime

import (
	"bufio"
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
	// inv is the invocation a /next answer hands over.
	inv *lambdaInvocation
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
// single write.
func (w *lambdaWorker) serveConn(c net.Conn) {
	defer w.trackConn(c, false)
	br := bufio.NewReader(c)
	var out []byte
	for {
		r, err := http.ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		a := w.answer(r)
		if a == nil {
			return // a long poll ended with the worker
		}
		out = a.appendTo(out[:0], r.Method == http.MethodHead)
		if _, err := c.Write(out); err != nil {
			if a.inv != nil {
				w.reoffer(a.inv)
			}
			return
		}
		// Close reads what the handler left of the body, so the next
		// request starts where it should.
		if a.close || r.Close || r.Body.Close() != nil {
			return
		}
	}
}

// answer routes one request. It returns nil only when a long poll ended
// because the worker did.
func (w *lambdaWorker) answer(r *http.Request) *rapiAnswer {
	path := r.URL.Path
	switch path {
	case rapiNextPath:
		if r.Method != http.MethodGet {
			return notAllowed(http.MethodGet)
		}
		return w.answerNext()
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

// answerNext hands the program its next invocation, waiting for one.
func (w *lambdaWorker) answerNext() *rapiAnswer {
	w.pollOnce.Do(func() { close(w.polled) })
	select {
	case inv := <-w.next:
		w.mu.Lock()
		w.cur = inv
		w.mu.Unlock()
		return w.nextAnswer(inv)
	case <-w.done:
		return nil
	}
}

// reoffer hands inv to the program's next /next again: the connection
// that took it closed before it got the invocation, so it never ran.
func (w *lambdaWorker) reoffer(inv *lambdaInvocation) {
	w.mu.Lock()
	if w.cur == inv {
		w.cur = nil
	}
	w.mu.Unlock()
	go func() {
		select {
		case w.next <- inv:
		case <-w.done:
		}
	}()
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
	a := jsonAnswer(http.StatusOK, inv.req.Event, h...)
	a.inv = inv
	return a
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
