package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// routeAPI registers bgfn's own endpoints under /.bgfn/api.
func (s *Server) routeAPI() {
	s.mux.HandleFunc("GET /.bgfn/api/invocations", s.listInvocations)
	s.mux.HandleFunc("GET /.bgfn/api/invocations/{id}", s.getInvocation)
	s.mux.HandleFunc("GET /.bgfn/api/invocations/{id}/wait", s.waitInvocation)
	s.mux.HandleFunc("POST /.bgfn/api/invocations/{id}/replay", s.replayInvocation)
	s.mux.HandleFunc("GET /.bgfn/api/events", s.events)
	s.mux.HandleFunc("GET /.bgfn/api/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.opts.Info)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := jsonMarshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "encode: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) listInvocations(w http.ResponseWriter, r *http.Request) {
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
	writeJSON(w, http.StatusOK, s.opts.Records.List(f))
}

func (s *Server) record(w http.ResponseWriter, r *http.Request) (*records.Record, bool) {
	id := r.PathValue("id")
	rec, ok := s.opts.Records.Get(id)
	if !ok {
		apiError(w, http.StatusNotFound, "no invocation "+strconv.Quote(id)+" (bgfn keeps the newest records in memory; older ones are in .netlify/bgfn/invocations.jsonl)")
	}
	return rec, ok
}

func (s *Server) getInvocation(w http.ResponseWriter, r *http.Request) {
	if rec, ok := s.record(w, r); ok {
		writeJSON(w, http.StatusOK, rec.Snapshot())
	}
}

// waitInvocation blocks until the invocation is final (200) or the timeout
// passes (202 with the record as it stands).
func (s *Server) waitInvocation(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.record(w, r)
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
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-rec.Done():
		writeJSON(w, http.StatusOK, rec.Snapshot())
	case <-timer.C:
		writeJSON(w, http.StatusAccepted, rec.Snapshot())
	case <-r.Context().Done():
	}
}

// replayInvocation runs an invocation again with the same request, or with
// the request body of this POST when it has one.
func (s *Server) replayInvocation(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.record(w, r)
	if !ok {
		return
	}
	snap := rec.Snapshot()
	body := rec.Body
	if body == nil && snap.Request.Body != "" && !snap.Request.BodyTruncated {
		if snap.Request.BodyBase64 {
			body, _ = base64.StdEncoding.DecodeString(snap.Request.Body)
		} else {
			body = []byte(snap.Request.Body)
		}
	}
	newBody, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBody+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "read replay body: "+err.Error())
		return
	}
	if len(newBody) > 0 {
		body = newBody
	}
	target := snap.Request.Path
	if snap.Request.Query != "" {
		target += "?" + snap.Request.Query
	}
	req, err := http.NewRequestWithContext(r.Context(), snap.Request.Method, target, bytes.NewReader(body))
	if err != nil {
		apiError(w, http.StatusBadRequest, "rebuild request: "+err.Error())
		return
	}
	for k, v := range snap.Request.Headers {
		if k == "host" || k == "content-length" {
			continue
		}
		req.Header.Set(k, v)
	}
	req.Host = r.Host
	req.RemoteAddr = r.RemoteAddr
	req.ContentLength = int64(len(body))
	rw := httptest.NewRecorder()
	if strings.HasPrefix(req.URL.Path, "/.netlify/") {
		s.replayDispatch(rw, req, snap.ID)
	} else {
		fn, pattern, params, ok := s.opts.Registry.Route(req.Method, req.URL.EscapedPath())
		if !ok {
			apiError(w, http.StatusNotFound, fmt.Sprintf("cannot replay %s %s: no function answers that path now", snap.Request.Method, target))
			return
		}
		s.dispatchFn(rw, req, fn, pattern, params, snap.ID)
	}
	id := rw.Header().Get("X-Bgfn-Invocation-Id")
	out := map[string]any{"id": id, "status": rw.Code, "replayOf": snap.ID}
	if id != "" {
		out["location"] = "/.bgfn/api/invocations/" + id
	}
	if rw.Code != http.StatusAccepted {
		// A synchronous replay has run already: here is what it answered.
		out["body"] = rw.Body.String()
	}
	writeJSON(w, http.StatusAccepted, out)
}

// replayDispatch sets the path value a mux match would and dispatches.
func (s *Server) replayDispatch(w http.ResponseWriter, r *http.Request, replayOf string) {
	rest := strings.TrimPrefix(r.URL.Path, "/.netlify/")
	_, after, _ := strings.Cut(rest, "/")
	name, _, _ := strings.Cut(after, "/")
	fn, ok := s.opts.Registry.Lookup(name)
	if !ok {
		writeText(w, http.StatusNotFound, notFoundBody)
		return
	}
	// A replay of a routed function recorded under its old URL still runs.
	s.dispatchFn(w, r, fn, "", nil, replayOf)
}

// events streams record changes and log lines as Server-Sent Events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		apiError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ch, stop := s.opts.Records.Subscribe()
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
		case <-s.base.Done():
			return
		}
	}
}

// requestInfo is what a record keeps of a request: everything but the
// body beyond keep bytes.
func requestInfo(r *http.Request, ev *Event, body []byte, keep int) records.Request {
	ri := records.Request{Method: r.Method, Path: ev.Path, Query: ev.RawQuery, Headers: ev.Headers}
	if len(body) > 0 {
		b := body
		if len(b) > keep {
			b = b[:keep]
			ri.BodyTruncated = true
		}
		if ev.IsBase64Encoded {
			ri.Body = base64.StdEncoding.EncodeToString(b)
			ri.BodyBase64 = true
		} else {
			ri.Body = string(b)
		}
	}
	return ri
}
