package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// Info describes the running bgfn; clients check Site to tell which
// site's server they reached.
type Info struct {
	Site    string `json:"site"`
	PID     int    `json:"pid"`
	Version string `json:"version"`
}

// ReplayResult is what a replay started: the new invocation, and for a
// synchronous one what it answered.
type ReplayResult struct {
	ID       string `json:"id"`
	Status   int    `json:"status"`
	ReplayOf string `json:"replayOf"`
	Location string `json:"location,omitempty"`
	Body     string `json:"body,omitempty"`
}

// Replayer runs a recorded invocation again, with body (the recorded one
// unless the caller gave another). It returns the new invocation's id, its
// status, and for a synchronous one what it answered. An error with a
// NotFound method that reports true means no function answers the
// recorded request now.
type Replayer interface {
	Replay(ctx context.Context, v *records.View, body []byte) (id string, status int, answer []byte, err error)
}

// Options configure the API.
type Options struct {
	Records  *records.Store
	Replayer Replayer
	// Control cancels and retries background invocations; without it
	// those endpoints answer 404.
	Control Controller
	Info    Info
	// MaxBody bounds a replay's new body.
	MaxBody int64
	// Done ends the event streams (bgfn is stopping).
	Done <-chan struct{}
	// Stats, when set, says what runs now (instances, hosts, queues);
	// served at /.bgfn/api/stats.
	Stats func() any
	// Resume, when set, runs interrupted background runs again with their
	// ids (all of them, or those of ids) and returns their records:
	// POST /.bgfn/api/invocations/interrupted/resume.
	Resume func(ids []string) ([]*records.View, error)

	// Functions and Config describe the site as it is served now (GET
	// /.bgfn/api/functions and /.bgfn/api/config); the server fills them,
	// since api knows nothing of builds. Without them those endpoints
	// answer 404.
	Functions func() []Function
	Config    func() Config
	// Blobs serves /.bgfn/api/blobs/ (blobs.NewAPI) and MCP serves
	// /.bgfn/mcp (mcp.NewHTTPHandler) when set. They are mounted here so
	// that whatever guards /.bgfn/ guards them too.
	Blobs http.Handler
	MCP   http.Handler
	// Page serves the runs page at /.bgfn/ (page.go).
	Page bool
}

// Handler serves /.bgfn/api.
type Handler struct {
	opts Options
	mux  *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns the API handler.
func New(opts Options) *Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 6 << 20
	}
	h := &Handler{opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /.bgfn/api/invocations", h.list)
	h.mux.HandleFunc("GET /.bgfn/api/invocations/{id}", h.get)
	h.mux.HandleFunc("GET /.bgfn/api/invocations/{id}/wait", h.wait)
	h.mux.HandleFunc("POST /.bgfn/api/invocations/{id}/replay", h.replay)
	h.mux.HandleFunc("POST /.bgfn/api/invocations/interrupted/resume", h.resume)
	if opts.Control != nil {
		h.mux.HandleFunc("POST /.bgfn/api/invocations/{id}/cancel", h.cancel)
		h.mux.HandleFunc("POST /.bgfn/api/invocations/{id}/retry", h.retry)
	}
	h.mux.HandleFunc("GET /.bgfn/api/events", h.events)
	h.mux.HandleFunc("GET /.bgfn/api/functions", h.functions)
	h.mux.HandleFunc("GET /.bgfn/api/config", h.config)
	h.mux.HandleFunc("GET /.bgfn/api/logs", h.logs)
	if opts.Page {
		h.mountPage()
	}
	if opts.Blobs != nil {
		h.mux.Handle("/.bgfn/api/blobs/", opts.Blobs)
	}
	if opts.MCP != nil {
		h.mux.Handle("/.bgfn/mcp", opts.MCP)
	}
	h.mux.HandleFunc("GET /.bgfn/api/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, h.opts.Info)
	})
	if h.opts.Stats != nil {
		h.mux.HandleFunc("GET /.bgfn/api/stats", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, h.opts.Stats())
		})
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	body := bytes.TrimRight(b.Bytes(), "\n")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := records.Filter{Function: q.Get("function"), Status: records.Status(q.Get("status"))}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "invalid limit "+strconv.Quote(l)+": use a whole number")
			return
		}
		f.Limit = n
	}
	writeJSON(w, http.StatusOK, h.opts.Records.List(f))
}

func (h *Handler) record(w http.ResponseWriter, r *http.Request) (*records.Record, bool) {
	id := r.PathValue("id")
	rec, ok := h.opts.Records.Get(id)
	if !ok {
		apiError(w, http.StatusNotFound, "no invocation "+strconv.Quote(id)+" (bgfn keeps the newest records in memory; older ones are in .netlify/bgfn/invocations.jsonl)")
	}
	return rec, ok
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	if rec, ok := h.record(w, r); ok {
		writeJSON(w, http.StatusOK, rec.View())
	}
}

// wait blocks until the invocation is final (200) or the timeout passes
// (202 with the record as it stands).
func (h *Handler) wait(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	timeout := 30 * time.Second
	if t := r.URL.Query().Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			secs, serr := strconv.ParseFloat(t, 64)
			if serr != nil {
				apiError(w, http.StatusBadRequest, "invalid timeout "+strconv.Quote(t)+": use a duration such as 30s")
				return
			}
			d = time.Duration(secs * float64(time.Second))
		}
		timeout = d
	}
	answerWhenDone(w, r, rec, timeout)
}

// answerWhenDone answers with rec's view once it is over (200), or as it
// is after timeout (202), unless the client goes away first.
func answerWhenDone(w http.ResponseWriter, r *http.Request, rec *records.Record, timeout time.Duration) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-rec.Done():
		writeJSON(w, http.StatusOK, rec.View())
	case <-timer.C:
		writeJSON(w, http.StatusAccepted, rec.View())
	case <-r.Context().Done():
	}
}

// replay runs an invocation again with the same request, or with the body
// of this POST when it has one.
func (h *Handler) replay(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	v := rec.View()
	body := rec.Body()
	if body == nil && v.Request.Body != "" && !v.Request.BodyTruncated {
		if v.Request.BodyBase64 {
			body, _ = base64.StdEncoding.DecodeString(v.Request.Body)
		} else {
			body = []byte(v.Request.Body)
		}
	}
	if r.Header.Get("Content-Type") == ReplayContentType {
		newBody, err := replayEdit(io.LimitReader(r.Body, 2*h.opts.MaxBody+(1<<20)), v)
		if err != nil {
			apiError(w, http.StatusBadRequest, err.Error())
			return
		}
		if newBody != nil {
			body = newBody
		}
	} else {
		newBody, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxBody+1))
		if err != nil {
			apiError(w, http.StatusBadRequest, "read replay body: "+err.Error())
			return
		}
		if len(newBody) > 0 {
			body = newBody
		}
	}
	id, status, answer, err := h.opts.Replayer.Replay(r.Context(), v, body)
	if err != nil {
		var nf interface{ NotFound() bool }
		if errors.As(err, &nf) && nf.NotFound() {
			apiError(w, http.StatusNotFound, err.Error())
			return
		}
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	res := ReplayResult{ID: id, Status: status, ReplayOf: v.ID}
	if id != "" {
		res.Location = "/.bgfn/api/invocations/" + id
	}
	if status != http.StatusAccepted {
		// A synchronous replay has run already: here is what it answered.
		res.Body = string(answer)
	}
	writeJSON(w, http.StatusAccepted, res)
}

// ResumeResult is what POST /.bgfn/api/invocations/interrupted/resume
// started: the records of the runs that run again.
type ResumeResult struct {
	Resumed []*records.View `json:"resumed"`
}

// resume runs the interrupted background runs again, keeping their ids:
// all of them, or those ?id= names (repeatable).
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	if h.opts.Resume == nil {
		apiError(w, http.StatusNotFound, "this bgfn keeps no journal of background runs to resume")
		return
	}
	views, err := h.opts.Resume(r.URL.Query()["id"])
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, "resume interrupted runs: "+err.Error())
		return
	}
	if views == nil {
		views = []*records.View{}
	}
	writeJSON(w, http.StatusOK, ResumeResult{Resumed: views})
}

// events streams record changes and log lines as Server-Sent Events.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		apiError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ch, stop := h.opts.Records.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": bgfn events\n\n")
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			b, _ := json.Marshal(ev)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, b)
			fl.Flush()
		case <-ping.C:
			io.WriteString(w, ": ping\n\n")
			fl.Flush()
		case <-r.Context().Done():
			return
		case <-h.opts.Done:
			return
		}
	}
}
