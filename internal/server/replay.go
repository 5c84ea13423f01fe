package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// noRouteError is a replay whose request no function answers now.
type noRouteError struct{ method, target string }

func (e *noRouteError) Error() string {
	return fmt.Sprintf("cannot replay %s %s: no function answers that path now", e.method, e.target)
}

// NotFound tells the API to answer 404.
func (e *noRouteError) NotFound() bool { return true }

// Replay runs a recorded invocation again with body, through the same path
// a request takes (routing, limits, the background queue). It returns the
// new invocation's id and status, and for a synchronous one its answer.
func (s *Server) Replay(ctx context.Context, v *records.View, body []byte) (string, int, []byte, error) {
	target := v.Request.Path
	if v.Request.Query != "" {
		target += "?" + v.Request.Query
	}
	req, err := http.NewRequestWithContext(ctx, v.Request.Method, target, bytes.NewReader(body))
	if err != nil {
		return "", 0, nil, fmt.Errorf("rebuild request: %w", err)
	}
	for k, val := range v.Request.Headers {
		if k == "host" || k == "content-length" {
			continue
		}
		req.Header.Set(k, val)
	}
	if h := v.Request.Headers["host"]; h != "" {
		req.Host = h
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.ContentLength = int64(len(body))
	rw := httptest.NewRecorder()
	if strings.HasPrefix(req.URL.Path, "/.netlify/") {
		rest := strings.TrimPrefix(req.URL.Path, "/.netlify/")
		_, after, _ := strings.Cut(rest, "/")
		name, _, _ := strings.Cut(after, "/")
		fn, ok := s.opts.Registry.Lookup(name)
		if !ok {
			return "", 0, nil, &noRouteError{v.Request.Method, target}
		}
		// A replay of a routed function recorded under its old URL still
		// runs.
		s.dispatchFn(rw, req, fn, "", nil, v.ID)
	} else {
		fn, pattern, params, ok := s.opts.Registry.Route(req.Method, req.URL.EscapedPath())
		if !ok {
			return "", 0, nil, &noRouteError{v.Request.Method, target}
		}
		s.dispatchFn(rw, req, fn, pattern, params, v.ID)
	}
	return rw.Header().Get("X-Bgfn-Invocation-Id"), rw.Code, rw.Body.Bytes(), nil
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
