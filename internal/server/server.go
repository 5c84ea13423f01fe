// Package server is bgfn's public HTTP side: it routes requests to
// functions, turns requests into Netlify events and results into
// responses, and runs synchronous invocations. Background invocations are
// handed to a Background queue; bgfn's own /.bgfn/ endpoints live in
// package api.
//
// It knows functions only through their Invoker, and hands background
// invocations over through the Background interface: it must not import
// build, api or dev.
package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// Netlify's answers, byte for byte (reference §2).
const (
	// NotFoundBody is the answer for a URL no function claims; it is sent
	// without a Content-Type, as netlify-cli does.
	NotFoundBody    = "Function not found..."
	invalidNameBody = "Function name should consist only of alphanumeric characters, hyphen & underscores."
	notBuilderBody  = `{"message":"Function is not an on-demand builder. See https://ntl.fyi/create-builder for how to convert a function to a builder."}`
)

// buildersPrefix is where on-demand builders (v1 handlers wrapped in
// builder()) are served.
const buildersPrefix = "/.netlify/builders/"

// Invoker runs one invocation of a function: its current build, on warm
// workers. A build that failed is an Invoke error (a *runtime.FunctionError).
type Invoker interface {
	Invoke(ctx context.Context, req *runtime.Request) (*runtime.Result, error)
}

// Function is what the server knows of a function.
type Function struct {
	Name    string
	Kind    discover.Kind
	Invalid string
	// Paths are the function's custom routes (v2 config.path); a function
	// with routes is not served at /.netlify/functions/NAME, as on Netlify.
	Paths []string
	// ExcludedPaths and Methods narrow Paths (config.excludedPath, method).
	ExcludedPaths []string
	Methods       []string
	// Schedule is the cron expression of a scheduled function.
	Schedule string
	// ConfigError is set when the function's in-source config is invalid;
	// requests get 500 with it.
	ConfigError string
	// Invoker runs it; nil for an invalid one.
	Invoker Invoker
}

// Registry finds functions by name. It changes on reload, so the server
// asks it on every request.
type Registry interface {
	Lookup(name string) (*Function, bool)
	// Route finds the function whose custom route matches (first in
	// registry order), with the matched pattern and its parameters.
	Route(method, path string) (fn *Function, pattern string, params map[string]string, ok bool)
}

// Background takes background invocations: it journals and records one,
// answers with its record, and runs it detached from the request. An
// error means the invocation was not accepted.
type Background interface {
	Accept(inv background.Invocation) (*records.Record, error)
}

// Options configure the server.
type Options struct {
	Registry   Registry
	Printer    *logs.Printer
	Background Background
	// Records keeps a record of every synchronous invocation; required.
	Records *records.Store
	// Timeout is the synchronous limit (Netlify: 60 s).
	Timeout time.Duration
	// ScheduledTimeout is the scheduled function limit (Netlify: 30 s).
	ScheduledTimeout time.Duration
	// MaxBody is the synchronous request body limit (Netlify: 6 MB).
	MaxBody int64
	// MaxBackgroundBody is the background request body limit (Netlify: 256 KB).
	MaxBackgroundBody int64
	// MaxStream is the streamed response limit (Netlify: 20 MB).
	MaxStream int64
	// SiteID is what functions see as x-nf-site-id.
	SiteID string
	// Blobs, when set, is every event's blobs field: the Netlify Blobs
	// server's context (blobs.Server.EventBlobs).
	Blobs string
	// Quiet leaves out the per-request lines (function logs still print).
	Quiet bool
	// Geo is the country code functions see in context.geo (bgfn dev
	// --geo); empty means netlify-cli's mock San Francisco location.
	Geo string
}

// Server is the HTTP handler for functions.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// active counts running synchronous invocations.
	active   sync.WaitGroup
	draining atomic.Bool
	// pathWarned holds the functions whose config.path warning was printed.
	pathWarned sync.Map
}

// New returns a server.
func New(opts Options) *Server {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.ScheduledTimeout <= 0 {
		opts.ScheduledTimeout = 30 * time.Second
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 6 << 20
	}
	if opts.MaxBackgroundBody <= 0 {
		opts.MaxBackgroundBody = 256 << 10
	}
	if opts.MaxStream <= 0 {
		opts.MaxStream = DefaultMaxStream
	}
	if opts.SiteID == "" {
		opts.SiteID = "unlinked"
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("/.netlify/functions/{name}", s.serveFunction)
	s.mux.HandleFunc("/.netlify/functions/{name}/{rest...}", s.serveFunction)
	s.mux.HandleFunc("/.netlify/builders/{name}", s.serveFunction)
	s.mux.HandleFunc("/.netlify/builders/{name}/{rest...}", s.serveFunction)
	s.mux.HandleFunc("/", s.serveRoute)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Drain stops taking invocations: function requests get 503 from now on.
func (s *Server) Drain() { s.draining.Store(true) }

// Wait waits until no synchronous invocation is running, or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeJSONText writes a JSON body that is already encoded.
func writeJSONText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeText(w http.ResponseWriter, status int, body string) {
	if body == NotFoundBody {
		w.Header()["Content-Type"] = nil
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (s *Server) serveFunction(w http.ResponseWriter, r *http.Request) {
	s.dispatch(w, r, "")
}

// serveRoute answers any other path from the functions' custom routes.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request) {
	fn, pattern, params, ok := s.opts.Registry.Route(r.Method, r.URL.EscapedPath())
	if !ok {
		writeText(w, http.StatusNotFound, NotFoundBody)
		return
	}
	s.dispatchFn(w, r, fn, pattern, params, "")
}

// dispatch answers a request to /.netlify/functions/NAME; replayOf names
// the invocation a replay repeats.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, replayOf string) {
	name := r.PathValue("name")
	fn, ok := s.opts.Registry.Lookup(name)
	if !ok {
		writeText(w, http.StatusNotFound, NotFoundBody)
		return
	}
	if len(fn.Paths) > 0 {
		// A function with custom paths answers only there, as on Netlify,
		// which says why on the first request that tries.
		if _, warned := s.pathWarned.LoadOrStore(fn.Name, true); !warned && !s.opts.Quiet {
			s.opts.Printer.RouteWarning("Warning: Function " + fn.Name + " cannot be invoked on /.netlify/functions/" + fn.Name + ", because the function has the following URL paths defined: " + strings.Join(fn.Paths, ", "))
		}
		writeText(w, http.StatusNotFound, NotFoundBody)
		return
	}
	s.dispatchFn(w, r, fn, "", nil, replayOf)
}

// dispatchFn runs fn for r; route and params come from a custom route.
func (s *Server) dispatchFn(w http.ResponseWriter, r *http.Request, fn *Function, route string, params map[string]string, replayOf string) {
	if !s.admit(w, r, fn) {
		return
	}
	isBackground := fn.Kind == discover.KindBackground
	limit := s.opts.MaxBody
	if isBackground {
		limit = s.opts.MaxBackgroundBody
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeText(w, http.StatusRequestEntityTooLarge, tooLargeMessage(fn.Name, isBackground, limit))
			return
		}
		writeText(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	scheduled := fn.Kind == discover.KindScheduled
	if scheduled {
		body = s.scheduledRequest(r, fn)
	}
	id := records.NewID()
	ev := newEvent(r, body, id, s.opts.SiteID)
	ev.Blobs = s.opts.Blobs
	ev.Route = route
	geo := s.requestGeo(r)
	ev.Headers["x-nf-geo"], ev.MultiValueHeaders["x-nf-geo"] = geo, []string{geo}
	cc := s.applyIdentity(r, ev, fn, isBackground)
	evJSON := encodeEvent(ev, len(body), isBackground)
	// The record shares the event's headers; the mock geolocation is noise
	// there (the event is already encoded).
	delete(ev.Headers, "x-nf-geo")
	req := &runtime.Request{
		ID:            id,
		Event:         evJSON,
		ClientContext: cc,
		Background:    isBackground,
		Params:        params,
	}
	if isBackground {
		_, err := s.opts.Background.Accept(background.Invocation{
			Function: fn.Name, Kind: string(fn.Kind), Method: r.Method, URI: r.URL.RequestURI(),
			Request: requestInfo(r, ev, body, int(limit)), Body: body, ReplayOf: replayOf, Req: req,
		})
		if err != nil {
			// No 202 without the journal: the caller must know it was not
			// accepted.
			writeText(w, http.StatusServiceUnavailable, "bgfn could not accept the background invocation: "+err.Error()+"; it did not run")
			return
		}
		w.Header().Set("X-Bgfn-Invocation-Id", id)
		w.Header().Set("Location", "/.bgfn/api/invocations/"+id)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	req.Timeout = s.opts.Timeout
	if scheduled {
		req.Timeout = s.opts.ScheduledTimeout
	}
	rec := s.opts.Records.New(records.Spec{
		ID: id, Function: fn.Name, Kind: string(fn.Kind), MaxAttempts: 1,
		Request: requestInfo(r, ev, body, records.MaxSyncBody), ReplayOf: replayOf,
	})
	s.serveSync(w, r, fn, req, rec)
}

// admit answers the requests that never reach the function: an invalid
// name, a broken config, bgfn shutting down, and what on-demand builders
// refuse. On the builders path it drops the query string, as production
// does.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, fn *Function) bool {
	switch {
	case fn.Invalid != "":
		writeText(w, http.StatusBadRequest, invalidNameBody)
		return false
	case fn.ConfigError != "":
		writeText(w, http.StatusInternalServerError, fn.ConfigError)
		return false
	case s.draining.Load():
		w.Header().Set("Retry-After", "5")
		writeText(w, http.StatusServiceUnavailable, "bgfn is shutting down and takes no new invocations; start `bgfn dev` again to send more")
		return false
	}
	if !strings.HasPrefix(r.URL.Path, buildersPrefix) {
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return false
	}
	if fn.Kind == discover.KindBackground {
		writeJSONText(w, http.StatusBadRequest, notBuilderBody)
		return false
	}
	r.URL.RawQuery = ""
	return true
}

func (s *Server) serveSync(w http.ResponseWriter, r *http.Request, fn *Function, req *runtime.Request, rec *records.Record) {
	p := s.opts.Printer
	name, short := fn.Name, records.ShortID(req.ID)
	s.active.Add(1)
	defer s.active.Done()
	// Every answer names its record, failures too (replays and
	// `bgfn invoke` follow it).
	w.Header().Set("X-Bgfn-Invocation-Id", req.ID)
	n := rec.StartAttempt()
	req.Started = rec.Running
	tl := p.InvocationLog(name, short)
	req.Log = func(st runtime.Stream, line []byte) {
		tl.Line(line)
		rec.Log(n, st == runtime.Stderr, line)
	}
	start := time.Now()
	handedOff := false
	res, err := fn.Invoker.Invoke(context.WithoutCancel(r.Context()), req)
	// An invocation that goes on after its answer (a stream, waitUntil
	// work) ends its log when it ends; any other ends it now.
	endLog := sync.OnceFunc(tl.End)
	if res == nil || !res.Pending() {
		endLog()
	} else {
		defer func() {
			if !handedOff {
				endLog()
			}
		}()
	}
	pid := runtime.PidOf(err)
	if res != nil {
		pid = res.Pid
		if err == nil && res.Error != nil {
			err = res.Error
		}
	}
	var rep *reply
	if err == nil {
		rep, err = toReply(res)
	}
	if res != nil && res.Stream != nil && (err != nil || fn.Kind == discover.KindScheduled) {
		// No one reads this body: let the function know.
		res.Stream.Abort()
	}
	if fn.Kind == discover.KindScheduled {
		s.finishScheduled(w, r, fn, req, rec, res, rep, err, pid, time.Since(start))
		return
	}
	if err != nil {
		fe := functionError(err)
		status := records.Failed
		if runtime.IsTimeout(err) {
			status = records.TimedOut
		}
		rec.EndAttempt(status, pid, recordError(fe))
		rec.SetStatusCode(http.StatusInternalServerError)
		rec.Finish(status)
		s.writeFunctionError(w, r, name, short, fe)
		s.logDone(name, short, r, http.StatusInternalServerError, time.Since(start))
		return
	}
	if !rep.builder && strings.HasPrefix(r.URL.Path, buildersPrefix) {
		// netlify-cli runs the function, then refuses a result that builder()
		// did not make.
		rec.EndAttempt(records.Failed, pid, &records.Error{Type: "NotABuilder", Message: "function " + name + " is not an on-demand builder: wrap its handler in builder() from @netlify/functions"})
		rec.SetStatusCode(http.StatusBadRequest)
		rec.Finish(records.Failed)
		writeJSONText(w, http.StatusBadRequest, notBuilderBody)
		s.logDone(name, short, r, http.StatusBadRequest, time.Since(start))
		return
	}
	if res.Stream != nil {
		handedOff = true
		s.serveStream(w, r, name, short, res, rep, rec, pid, start, endLog)
		return
	}
	if res.Pending() {
		handedOff = true
		s.serveDeferred(w, r, name, short, res, rep, rec, pid, start, endLog)
		return
	}
	rec.EndAttempt(records.Succeeded, pid, nil)
	rec.SetStatusCode(rep.status)
	rec.SetResponse(rep.record())
	rec.Finish(records.Succeeded)
	writeReply(w, r, rep, req.ID)
	s.logDone(name, short, r, rep.status, time.Since(start))
}

// writeReply writes a whole answer.
func writeReply(w http.ResponseWriter, r *http.Request, rep *reply, id string) {
	h := w.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	h.Set("X-Bgfn-Invocation-Id", id)
	h.Set("Content-Length", rep.contentLength(r.Method))
	if _, ok := h["Content-Type"]; !ok {
		// Netlify adds no Content-Type; keep net/http from sniffing one.
		h["Content-Type"] = nil
	}
	w.WriteHeader(rep.status)
	if r.Method != http.MethodHead {
		w.Write(rep.body)
	}
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	if r.ContentLength == 0 {
		return nil, nil
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(rd, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(rd)
}

func tooLargeMessage(name string, background bool, limit int64) string {
	if background {
		return fmt.Sprintf("Payload Too Large: the request body for background function %s is over %s. Netlify rejects background requests over %s in production; send a smaller payload (store large data elsewhere and pass a reference), or run bgfn dev --no-limits to lift the limit locally.", name, humanBytes(limit), humanBytes(limit))
	}
	return fmt.Sprintf("Payload Too Large: the request body for function %s is over %s, Netlify's limit for synchronous functions. Send a smaller payload, or run bgfn dev --no-limits to lift the limit locally.", name, humanBytes(limit))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// functionError is the error a failed invocation reports to the client and
// the terminal: errorType, errorMessage and stack lines.
func functionError(err error) *runtime.FunctionError {
	var re *responseError
	if errors.As(err, &re) {
		return &runtime.FunctionError{Message: re.msg}
	}
	return runtime.ErrorOf(err)
}

// recordError is fe as a record keeps it.
func recordError(fe *runtime.FunctionError) *records.Error {
	return &records.Error{Type: fe.Type, Message: fe.Message, Stack: fe.Stack}
}

func (s *Server) writeFunctionErrorLines(name, short string, fe *runtime.FunctionError) {
	s.opts.Printer.FunctionError(name, short, fe.Error(), fe.Stack)
}

func (s *Server) writeFunctionError(w http.ResponseWriter, r *http.Request, name, short string, fe *runtime.FunctionError) {
	s.writeFunctionErrorLines(name, short, fe)
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		body := "<!doctype html><html><head><meta charset=\"utf-8\"><title>Function error</title></head><body><h1>Function " +
			html.EscapeString(name) + " has returned an error</h1><pre>" + html.EscapeString(fe.Trace()) + "</pre></body></html>"
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, body)
		return
	}
	writeText(w, http.StatusInternalServerError, fe.Trace())
}

func (s *Server) logDone(name, short string, r *http.Request, status int, d time.Duration) {
	if s.opts.Quiet {
		return
	}
	s.opts.Printer.Request(name, short, r.Method, r.URL.RequestURI(), status, d)
}
