package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/schedule"
)

// ClockworkUA is the user agent of Netlify's scheduler; scheduled functions
// are called with it.
const ClockworkUA = "Netlify Clockwork"

// scheduledRequest turns r into what Netlify's scheduler sends a scheduled
// function (reference §3): a POST with {"next_run": ...}, the Clockwork
// user agent and X-NF-Event: schedule. It returns the new body.
func (s *Server) scheduledRequest(r *http.Request, fn *Function) []byte {
	next := ""
	if sch, err := schedule.Parse(fn.Schedule); err == nil {
		if t := sch.Next(time.Now()); !t.IsZero() {
			next = t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	}
	body, _ := json.Marshal(map[string]string{"next_run": next})
	if r.Header.Get("User-Agent") != ClockworkUA {
		r.Header.Set("X-Bgfn-Manual", "1")
	}
	r.Method = http.MethodPost
	r.Header.Set("User-Agent", ClockworkUA)
	r.Header.Set("X-NF-Event", "schedule")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Del("Content-Length")
	return body
}

// finishScheduled answers a scheduled invocation as netlify-cli does: a
// help text (200), or 500 when the function failed; the function's own
// response is not passed on, since the scheduler ignores it in production.
func (s *Server) finishScheduled(w http.ResponseWriter, r *http.Request, fn *Function, req *runtime.Request, rec *records.Record, res *runtime.Result, rep *reply, err error, pid int, took time.Duration) {
	short := records.ShortID(req.ID)
	manual := r.Header.Get("X-Bgfn-Manual") == "1"
	var b strings.Builder
	if manual {
		b.WriteString("You performed an HTTP request to `" + r.URL.Path + "`, which is a scheduled function. You can do this to test your functions locally, but it won't work in production.\n")
	}
	status := http.StatusOK
	var fe *runtime.FunctionError
	if err != nil {
		var re *responseError
		if errors.As(err, &re) {
			// A scheduled function need not return a response.
			err = nil
		} else {
			fe = functionError(err)
			status = http.StatusInternalServerError
		}
	}
	switch {
	case fe != nil:
		st := records.Failed
		var te *runtime.TimeoutError
		if errors.As(err, &te) {
			st = records.TimedOut
		}
		rec.EndAttempt(st, pid, recordError(fe))
		rec.SetStatusCode(status)
		rec.Finish(st)
		b.WriteString("The scheduled function failed: " + fe.Trace() + "\n")
		s.writeFunctionErrorLines(fn.Name, short, fe)
	default:
		rec.EndAttempt(records.Succeeded, pid, nil)
		rec.SetStatusCode(status)
		rec.Finish(records.Succeeded)
		if rep != nil && rep.status >= 500 {
			b.WriteString("Your function returned a status code of " + strconv.Itoa(rep.status) + ". The scheduler treats a 5xx as a failure.\n")
		}
		if res != nil && len(res.Response) > 0 {
			var keys map[string]json.RawMessage
			if json.Unmarshal(res.Response, &keys) == nil {
				for _, k := range ignoredKeys(keys) {
					b.WriteString("Your function returned `" + k + "`. Is this an accident? It won't be interpreted by Netlify.\n")
				}
			}
		}
		if b.Len() == 0 {
			b.WriteString("Scheduled function " + fn.Name + " ran.\n")
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<!doctype html><html><body><pre>"+html.EscapeString(b.String())+"</pre></body></html>")
	} else {
		writeText(w, status, b.String())
	}
	s.logDone(fn.Name, short, r, status, took)
}

// ignoredKeys lists what a scheduled function returned that the scheduler
// ignores: anything but statusCode, headers and an empty body (a v2
// function's response arrives mapped to that shape).
func ignoredKeys(m map[string]json.RawMessage) []string {
	var out []string
	for k, v := range m {
		switch k {
		case "statusCode", "headers", "multiValueHeaders", "isBase64Encoded":
			continue
		case "body":
			if s := string(v); s == `""` || s == "null" {
				continue
			}
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Fire invokes a scheduled function the way Netlify's scheduler does and
// returns its invocation id and HTTP status.
func (s *Server) Fire(name string) (string, int) {
	req := httptest.NewRequest(http.MethodPost, "/.netlify/functions/"+name, bytes.NewReader(nil))
	req.Header.Set("User-Agent", ClockworkUA)
	req.RemoteAddr = "127.0.0.1:0"
	req.SetPathValue("name", name)
	rw := httptest.NewRecorder()
	s.dispatch(rw, req, "")
	return rw.Header().Get("X-Bgfn-Invocation-Id"), rw.Code
}
