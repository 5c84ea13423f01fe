// Package server is bgfn's public HTTP side: it routes requests to
// functions, turns requests into Netlify events and results into
// responses, and runs background functions detached from their request.
package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// Netlify's answers, byte for byte (reference §2).
const (
	notFoundBody    = "Function not found..." // sent without a Content-Type, as netlify-cli does
	invalidNameBody = "Function name should consist only of alphanumeric characters, hyphen & underscores."
	notBuilderBody  = `{"message":"Function is not an on-demand builder. See https://ntl.fyi/create-builder for how to convert a function to a builder."}`
)

// buildersPrefix is where on-demand builders (v1 handlers wrapped in
// builder()) are served.
const buildersPrefix = "/.netlify/builders/"

// Invoker runs one invocation (a runtime.Pool).
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
	// BuildErr is set when the function failed to build; requests get 500
	// with it.
	BuildErr *build.Error
	// Building is closed when the function's first build ends (Go builds
	// run after start-up); requests wait for it, then look it up again.
	Building <-chan struct{}
	// Pool runs the function; nil when BuildErr is set.
	Pool Invoker
}

// Registry finds functions by name. It changes on reload, so the server
// asks it on every request.
type Registry interface {
	Lookup(name string) (*Function, bool)
	// Route finds the function whose custom route matches (first in
	// registry order), with the matched pattern and its parameters.
	Route(method, path string) (fn *Function, pattern string, params map[string]string, ok bool)
}

// Options configure the server.
type Options struct {
	Registry Registry
	Sink     *logs.Sink
	// Timeout is the synchronous limit (Netlify: 60 s).
	Timeout time.Duration
	// BackgroundTimeout is the background limit (Netlify: 15 min).
	BackgroundTimeout time.Duration
	// ScheduledTimeout is the scheduled function limit (Netlify: 30 s).
	ScheduledTimeout time.Duration
	// MaxBody is the synchronous request body limit (Netlify: 6 MB).
	MaxBody int64
	// MaxBackgroundBody is the background request body limit (Netlify: 256 KB).
	MaxBackgroundBody int64
	// SiteID is what functions see as x-nf-site-id.
	SiteID string
	// Records keeps a record of every invocation; required.
	Records *records.Store
	// Retries is how many times a failed background invocation is retried
	// (Netlify: 2).
	Retries int
	// RetryDelays are the waits before each retry (Netlify: 1m, then 2m);
	// the last one repeats.
	RetryDelays []time.Duration
	// Quiet leaves out the per-request lines (function logs still print).
	Quiet bool
	// Info is served at /.bgfn/api/info so clients can tell which site a
	// server belongs to.
	Info Info
	// MaxBackgroundRunning caps the background invocations of one function
	// that run at once; the rest wait in a queue. Match the worker cap.
	MaxBackgroundRunning int
}

// Info describes the running bgfn.
type Info struct {
	Site    string `json:"site"`
	PID     int    `json:"pid"`
	Version string `json:"version"`
}

// Server is the HTTP handler for functions.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// active counts running attempts, sync and background.
	active   sync.WaitGroup
	draining atomic.Bool
	// pathWarned holds the functions whose config.path warning was printed.
	pathWarned sync.Map

	qmu    sync.Mutex
	queues map[string]*bgQueue
	// base is the context background runs live in: it outlives requests
	// and is cancelled only at shutdown.
	base   context.Context
	cancel context.CancelFunc
}

// New returns a server.
func New(opts Options) *Server {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.BackgroundTimeout <= 0 {
		opts.BackgroundTimeout = 15 * time.Minute
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
	if opts.SiteID == "" {
		opts.SiteID = "unlinked"
	}
	if len(opts.RetryDelays) == 0 {
		opts.RetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if opts.MaxBackgroundRunning <= 0 {
		opts.MaxBackgroundRunning = 4
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), queues: make(map[string]*bgQueue)}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.mux.HandleFunc("/.netlify/functions/{name}", s.serveFunction)
	s.mux.HandleFunc("/.netlify/functions/{name}/{rest...}", s.serveFunction)
	s.mux.HandleFunc("/.netlify/builders/{name}", s.serveFunction)
	s.mux.HandleFunc("/.netlify/builders/{name}/{rest...}", s.serveFunction)
	s.routeAPI()
	s.mux.HandleFunc("/", s.serveRoute)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Drain stops taking invocations: function requests get 503 from now on,
// and queued background invocations are not started. The API stays up.
func (s *Server) Drain() { s.draining.Store(true) }

// Wait waits until no attempt is running, or ctx ends.
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

// Close kills what still runs, waits for the attempts to end (at most
// until ctx ends) and records every invocation that has not ended
// (running, queued or waiting for a retry) as interrupted.
func (s *Server) Close(ctx context.Context) {
	s.draining.Store(true)
	s.cancel()
	s.qmu.Lock()
	for _, q := range s.queues {
		q.stopTimers()
	}
	s.qmu.Unlock()
	// Running attempts end quickly once their workers are killed.
	s.Wait(ctx)
	for _, r := range s.opts.Records.Unfinished() {
		r.Finish(records.Interrupted)
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
	if body == notFoundBody {
		w.Header()["Content-Type"] = nil
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// NewID returns a new invocation id: 12 hex digits of milliseconds (so ids
// sort by time) and 8 random ones. ShortID is the random part's start.
func NewID() string {
	var b [20]byte
	const hexd = "0123456789abcdef"
	ms := uint64(time.Now().UnixMilli())
	for i := 11; i >= 0; i-- {
		b[i] = hexd[ms&0xf]
		ms >>= 4
	}
	r := rand.Uint32()
	for i := 19; i >= 12; i-- {
		b[i] = hexd[r&0xf]
		r >>= 4
	}
	return string(b[:])
}

// ShortID is the 4-character id shown in log prefixes.
func ShortID(id string) string {
	if len(id) >= 16 {
		return id[12:16]
	}
	return id
}

func (s *Server) serveFunction(w http.ResponseWriter, r *http.Request) {
	s.dispatch(w, r, "")
}

// serveRoute answers any other path from the functions' custom routes.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request) {
	fn, pattern, params, ok := s.opts.Registry.Route(r.Method, r.URL.EscapedPath())
	if !ok {
		writeText(w, http.StatusNotFound, notFoundBody)
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
		writeText(w, http.StatusNotFound, notFoundBody)
		return
	}
	if len(fn.Paths) > 0 {
		// A function with custom paths answers only there, as on Netlify,
		// which says why on the first request that tries.
		if _, warned := s.pathWarned.LoadOrStore(fn.Name, true); !warned && !s.opts.Quiet {
			st := s.opts.Sink.Styles()
			s.opts.Sink.Line(st.Render(st.Warning, "Warning: Function "+fn.Name+" cannot be invoked on /.netlify/functions/"+fn.Name+", because the function has the following URL paths defined: "+strings.Join(fn.Paths, ", ")))
		}
		writeText(w, http.StatusNotFound, notFoundBody)
		return
	}
	s.dispatchFn(w, r, fn, "", nil, replayOf)
}

// dispatchFn runs fn for r; route and params come from a custom route.
func (s *Server) dispatchFn(w http.ResponseWriter, r *http.Request, fn *Function, route string, params map[string]string, replayOf string) {
	name := fn.Name
	if fn.Invalid != "" {
		writeText(w, http.StatusBadRequest, invalidNameBody)
		return
	}
	if fn.ConfigError != "" {
		writeText(w, http.StatusInternalServerError, fn.ConfigError)
		return
	}
	if s.draining.Load() {
		w.Header().Set("Retry-After", "5")
		writeText(w, http.StatusServiceUnavailable, "bgfn is shutting down and takes no new invocations; start `bgfn dev` again to send more")
		return
	}
	background := fn.Kind == discover.KindBackground
	if strings.HasPrefix(r.URL.Path, buildersPrefix) {
		// On-demand builders answer GET and HEAD only and never see the
		// query string, as in production.
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		if background {
			writeJSONText(w, http.StatusBadRequest, notBuilderBody)
			return
		}
		r.URL.RawQuery = ""
	}
	limit := s.opts.MaxBody
	if background {
		limit = s.opts.MaxBackgroundBody
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeText(w, http.StatusRequestEntityTooLarge, tooLargeMessage(name, background, limit))
			return
		}
		writeText(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	scheduled := fn.Kind == discover.KindScheduled
	if scheduled {
		body = s.scheduledRequest(r, fn)
	}
	id := NewID()
	ev := newEvent(r, body, id, s.opts.SiteID)
	ev.Route = route
	evJSON := appendEvent(make([]byte, 0, 1024+len(body)*4/3), ev)
	// The record shares the event's headers; the mock geolocation is noise
	// there (the event is already encoded).
	delete(ev.Headers, "x-nf-geo")
	req := &runtime.Request{
		ID:            id,
		Event:         evJSON,
		ClientContext: clientContext(r),
		Background:    background,
		Params:        params,
	}
	if background {
		req.Timeout = s.opts.BackgroundTimeout
		rec := s.opts.Records.New(id, fn.Name, string(fn.Kind), s.opts.Retries+1, requestInfo(r, ev, body, int(limit)), body)
		rec.ReplayOf = replayOf
		s.enqueue(fn.Name, &bgItem{rec: rec, req: req})
		w.Header().Set("X-Bgfn-Invocation-Id", id)
		w.Header().Set("Location", "/.bgfn/api/invocations/"+id)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		if !s.opts.Quiet {
			sink := s.opts.Sink
			st := sink.Styles()
			sink.Line(sink.Prefix(fn.Name, ShortID(id)) + " " + st.Render(st.Accent, "⬥ queued (202)") + " " + st.Render(st.Dim, r.Method+" "+r.URL.RequestURI()))
		}
		return
	}
	req.Timeout = s.opts.Timeout
	if scheduled {
		req.Timeout = s.opts.ScheduledTimeout
	}
	rec := s.opts.Records.New(id, fn.Name, string(fn.Kind), 1, requestInfo(r, ev, body, records.MaxSyncBody), nil)
	rec.ReplayOf = replayOf
	s.serveSync(w, r, fn, req, rec)
}

func (s *Server) serveSync(w http.ResponseWriter, r *http.Request, fn *Function, req *runtime.Request, rec *records.Record) {
	sink := s.opts.Sink
	name, short := fn.Name, ShortID(req.ID)
	s.active.Add(1)
	defer s.active.Done()
	// Every answer names its record, failures too (replays and
	// `bgfn invoke` follow it).
	w.Header().Set("X-Bgfn-Invocation-Id", req.ID)
	n := rec.StartAttempt()
	req.Log = func(st runtime.Stream, line []byte) {
		sink.FunctionLine(name, short, line)
		rec.Log(n, st, line)
	}
	start := time.Now()
	res, err := s.run(context.WithoutCancel(r.Context()), fn, req)
	pid := errorPid(err)
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
	if fn.Kind == discover.KindScheduled {
		s.finishScheduled(w, r, fn, req, rec, res, rep, err, pid, time.Since(start))
		return
	}
	if err != nil {
		fe := functionError(err)
		status := records.Failed
		var te *runtime.TimeoutError
		if errors.As(err, &te) {
			status = records.TimedOut
		}
		rec.EndAttempt(status, pid, fe)
		rec.SetStatusCode(http.StatusInternalServerError)
		rec.Finish(status)
		s.writeFunctionError(w, r, name, short, fe)
		s.logDone(name, short, r, http.StatusInternalServerError, time.Since(start))
		return
	}
	if !rep.builder && strings.HasPrefix(r.URL.Path, buildersPrefix) {
		// netlify-cli runs the function, then refuses a result that builder()
		// did not make.
		rec.EndAttempt(records.Failed, pid, &runtime.FunctionError{Type: "NotABuilder", Message: "function " + name + " is not an on-demand builder: wrap its handler in builder() from @netlify/functions"})
		rec.SetStatusCode(http.StatusBadRequest)
		rec.Finish(records.Failed)
		writeJSONText(w, http.StatusBadRequest, notBuilderBody)
		s.logDone(name, short, r, http.StatusBadRequest, time.Since(start))
		return
	}
	rec.EndAttempt(records.Succeeded, pid, nil)
	rec.SetStatusCode(rep.status)
	rec.Finish(records.Succeeded)
	h := w.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	h.Set("X-Bgfn-Invocation-Id", req.ID)
	if h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	if _, ok := h["Content-Type"]; !ok {
		// Netlify adds no Content-Type; keep net/http from sniffing one.
		h["Content-Type"] = nil
	}
	w.WriteHeader(rep.status)
	if r.Method != http.MethodHead {
		w.Write(rep.body)
	}
	s.logDone(name, short, r, rep.status, time.Since(start))
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

// run invokes fn, following a reload to the function's new pool when the
// old one closed under the request.
func (s *Server) run(ctx context.Context, fn *Function, req *runtime.Request) (*runtime.Result, error) {
	for {
		if fn.Building != nil {
			select {
			case <-fn.Building:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			next, ok := s.opts.Registry.Lookup(fn.Name)
			if !ok {
				return nil, fmt.Errorf("function %s was removed while it was being built", fn.Name)
			}
			if next.Building == nil || next != fn {
				fn = next
				continue
			}
			return nil, fmt.Errorf("function %s is still being built", fn.Name)
		}
		if fn.BuildErr != nil {
			return nil, fn.BuildErr
		}
		res, err := fn.Pool.Invoke(ctx, req)
		if !errors.Is(err, runtime.ErrPoolClosed) || s.base.Err() != nil {
			return res, err
		}
		next, ok := s.opts.Registry.Lookup(fn.Name)
		if !ok || next == fn {
			return res, err
		}
		fn = next
	}
}

// functionError is the error a failed invocation reports to the client and
// the terminal: errorType, errorMessage and stack lines.
func functionError(err error) *runtime.FunctionError {
	var fe *runtime.FunctionError
	var te *runtime.TimeoutError
	var ie *runtime.InitError
	var be *build.Error
	var re *responseError
	switch {
	case errors.As(err, &fe):
		return userFrames(fe)
	case errors.As(err, &te):
		return te.AsFunctionError()
	case errors.As(err, &ie):
		return ie.Err
	case errors.As(err, &be):
		return &runtime.FunctionError{Type: "BuildError", Message: be.Detail()}
	case errors.As(err, &re):
		return &runtime.FunctionError{Message: re.msg}
	}
	return &runtime.FunctionError{Type: "Error", Message: err.Error()}
}

// userFrames drops the stack frames of bgfn's bootstrap and of Node's
// internals, which say nothing about the user's code.
func userFrames(fe *runtime.FunctionError) *runtime.FunctionError {
	keep := fe.Stack[:0:0]
	for _, l := range fe.Stack {
		if strings.Contains(l, "/nodeboot/bootstrap") || strings.Contains(l, "(node:") || strings.HasPrefix(strings.TrimSpace(l), "at node:") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) == len(fe.Stack) {
		return fe
	}
	return &runtime.FunctionError{Type: fe.Type, Message: fe.Message, Stack: keep}
}

func (s *Server) writeFunctionErrorLines(name, short string, fe *runtime.FunctionError) {
	st := s.opts.Sink.Styles()
	msg := strings.Split(fe.Error(), "\n")
	lines := []string{s.opts.Sink.Prefix(name, short) + " " + st.Render(st.Failure, "⬥ Function "+name+" has returned an error: "+msg[0])}
	for _, l := range append(msg[1:], fe.Stack...) {
		lines = append(lines, s.opts.Sink.Prefix(name, short)+" "+st.Render(st.Dim, l))
	}
	s.opts.Sink.Lines(lines...)
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
	st := s.opts.Sink.Styles()
	code := strconv.Itoa(status)
	switch {
	case status >= 500:
		code = st.Render(st.Failure, code)
	case status >= 400:
		code = st.Render(st.Warning, code)
	default:
		code = st.Render(st.Success, code)
	}
	s.opts.Sink.Line(s.opts.Sink.Prefix(name, short) + " " + r.Method + " " + r.URL.RequestURI() + " " + code + " " + st.Render(st.Dim, formatDuration(d)))
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
