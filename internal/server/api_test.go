package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

func TestListInvocations(t *testing.T) {
	ok := fn("ok", discover.KindSync, respond(`{"statusCode":200}`))
	bad := fn("bad", discover.KindSync, throw(&runtime.FunctionError{Type: "Error", Message: "no"}))
	s, _ := newServer(t, testOptions{}, ok, bad)
	url := serve(t, s)
	var ids []string // oldest first
	for _, name := range []string{"ok", "bad", "ok", "bad", "ok"} {
		res := do(t, "GET", url+"/.netlify/functions/"+name, nil, nil)
		id := res.header.Get("X-Bgfn-Invocation-Id")
		if id == "" { // errors carry no id header; the newest record is it
			id = s.opts.Records.List(records.Filter{Limit: 1})[0].ID
		}
		ids = append(ids, id)
	}
	pick := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, ids[i])
		}
		return out
	}
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantIDs    []string
		wantErr    string
	}{
		{name: "all newest first", wantStatus: 200, wantIDs: pick(4, 3, 2, 1, 0)},
		{name: "function", query: "?function=ok", wantStatus: 200, wantIDs: pick(4, 2, 0)},
		{name: "status", query: "?status=failed", wantStatus: 200, wantIDs: pick(3, 1)},
		{name: "function and status", query: "?function=ok&status=failed", wantStatus: 200, wantIDs: pick()},
		{name: "limit", query: "?limit=2", wantStatus: 200, wantIDs: pick(4, 3)},
		{name: "limit zero is no limit", query: "?limit=0", wantStatus: 200, wantIDs: pick(4, 3, 2, 1, 0)},
		{name: "limit with filter", query: "?function=bad&limit=1", wantStatus: 200, wantIDs: pick(3)},
		{name: "unknown function", query: "?function=zzz", wantStatus: 200, wantIDs: pick()},
		{name: "bad limit", query: "?limit=abc", wantStatus: 400, wantErr: `invalid limit "abc": use a whole number`},
		{name: "negative limit", query: "?limit=-1", wantStatus: 400, wantErr: `invalid limit "-1": use a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "GET", url+"/.bgfn/api/invocations"+tt.query, nil, nil)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if tt.wantErr != "" {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(res.body), &e); err != nil || e.Error != tt.wantErr {
					t.Errorf("body = %s, want {\"error\": %q}", res.body, tt.wantErr)
				}
				return
			}
			var recs []*records.View
			if err := json.Unmarshal([]byte(res.body), &recs); err != nil {
				t.Fatalf("decode %s: %v", res.body, err)
			}
			got := []string{}
			for _, r := range recs {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tt.wantIDs)
			}
			if len(tt.wantIDs) == 0 && strings.TrimSpace(res.body) != "[]" {
				t.Errorf("body = %s, want []", res.body)
			}
		})
	}
}

func TestGetInvocation(t *testing.T) {
	hello := fn("hello", discover.KindSync, respond(`{"statusCode":200}`))
	s, _ := newServer(t, testOptions{}, hello)
	url := serve(t, s)
	id := do(t, "GET", url+"/.netlify/functions/hello", nil, nil).header.Get("X-Bgfn-Invocation-Id")
	tests := []struct {
		name       string
		id         string
		wantStatus int
	}{
		{"known", id, 200},
		{"unknown", "0000000000000000dead", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "GET", url+"/.bgfn/api/invocations/"+tt.id, nil, nil)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if tt.wantStatus == 200 {
				if rec := decodeRecord(t, res.body); rec.ID != id || rec.Status != records.Succeeded || rec.StatusCode != 200 {
					t.Errorf("record = %s %s %d", rec.ID, rec.Status, rec.StatusCode)
				}
				return
			}
			var e struct{ Error string }
			if json.Unmarshal([]byte(res.body), &e) != nil || !strings.Contains(e.Error, tt.id) {
				t.Errorf("body = %s, want a JSON error naming the id", res.body)
			}
		})
	}
}

// TestWaitInvocation runs on a fake clock, so the timeouts cost nothing.
func TestWaitInvocation(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		finished   bool          // the record is final before the wait
		finishIn   time.Duration // the record ends this long into the wait
		unknown    bool
		wantStatus int
		wantTook   time.Duration
		wantFinal  records.Status
	}{
		{name: "already final", finished: true, query: "?timeout=10s", wantStatus: 200, wantFinal: records.Succeeded},
		{name: "ends during the wait", finishIn: 3 * time.Second, query: "?timeout=10s", wantStatus: 200, wantTook: 3 * time.Second, wantFinal: records.Succeeded},
		{name: "timeout", query: "?timeout=2s", wantStatus: 202, wantTook: 2 * time.Second, wantFinal: records.Queued},
		{name: "timeout in seconds", query: "?timeout=1.5", wantStatus: 202, wantTook: 1500 * time.Millisecond, wantFinal: records.Queued},
		{name: "default timeout", wantStatus: 202, wantTook: 30 * time.Second, wantFinal: records.Queued},
		{name: "ends after the timeout", finishIn: 5 * time.Second, query: "?timeout=1s", wantStatus: 202, wantTook: time.Second, wantFinal: records.Queued},
		{name: "bad timeout", query: "?timeout=soon", wantStatus: 400},
		{name: "unknown id", unknown: true, query: "?timeout=1s", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, _ := newServer(t, testOptions{})
				rec := s.opts.Records.New(records.Spec{ID: "0123456789abcdef0123", Function: "job-background", Kind: "background", MaxAttempts: 1})
				if tt.finished {
					rec.Finish(records.Succeeded)
				}
				finisher := make(chan struct{})
				go func() {
					defer close(finisher)
					if tt.finishIn > 0 {
						time.Sleep(tt.finishIn)
						rec.Finish(records.Succeeded)
					}
				}()
				defer func() { <-finisher }()
				id := rec.ID()
				if tt.unknown {
					id = "nope"
				}
				start := time.Now()
				rw := httptest.NewRecorder()
				s.ServeHTTP(rw, httptest.NewRequest("GET", "/.bgfn/api/invocations/"+id+"/wait"+tt.query, nil))
				took := time.Since(start)
				if rw.Code != tt.wantStatus {
					t.Fatalf("status = %d, want %d (body %s)", rw.Code, tt.wantStatus, rw.Body)
				}
				if tt.wantStatus >= 400 {
					return
				}
				if took != tt.wantTook {
					t.Errorf("answered after %v, want %v", took, tt.wantTook)
				}
				if got := decodeRecord(t, rw.Body.String()); got.Status != tt.wantFinal {
					t.Errorf("record status = %s, want %s", got.Status, tt.wantFinal)
				}
			})
		})
	}
}

func TestWaitInvocationClientGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newServer(t, testOptions{})
		rec := s.opts.Records.New(records.Spec{ID: "0123456789abcdef0123", Function: "job-background", Kind: "background", MaxAttempts: 1})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "/.bgfn/api/invocations/"+rec.ID()+"/wait", nil))
		}()
		time.Sleep(time.Second)
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatalf("wait still blocked after the client went away")
		}
	})
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name        string
		fn          *Function
		contentType string
		body        string
		replayBody  string
		wantStatus  int // the original request's status
		wantBody    string
	}{
		{name: "background", fn: fn("echo-background", discover.KindBackground, respond(`{}`)), contentType: "application/json", body: `{"n":1}`, wantStatus: 202, wantBody: `{"n":1}`},
		{name: "background with a new body", fn: fn("echo-background", discover.KindBackground, respond(`{}`)), contentType: "application/json", body: `{"n":1}`, replayBody: `{"n":2}`, wantStatus: 202, wantBody: `{"n":2}`},
		{name: "background binary body", fn: fn("echo-background", discover.KindBackground, respond(`{}`)), contentType: "application/octet-stream", body: "\x00\x01\xff", wantStatus: 202, wantBody: "AAH/"},
		{name: "sync", fn: fn("echo", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`)), contentType: "text/plain", body: "hello", wantStatus: 200, wantBody: "hello"},
		{name: "sync binary body", fn: fn("echo", discover.KindSync, respond(`{"statusCode":200,"body":"ok"}`)), body: "\x00\x01\xff", wantStatus: 200, wantBody: "AAH/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t, testOptions{}, tt.fn)
			url := serve(t, s)
			hdr := map[string]string{"X-Custom": "kept"}
			if tt.contentType != "" {
				hdr["Content-Type"] = tt.contentType
			}
			first := do(t, "PUT", url+"/.netlify/functions/"+tt.fn.Name+"/sub?q=1", strings.NewReader(tt.body), hdr)
			if first.status != tt.wantStatus {
				t.Fatalf("first request: %d, want %d", first.status, tt.wantStatus)
			}
			orig := first.header.Get("X-Bgfn-Invocation-Id")
			waitRecord(t, url, orig)

			res := do(t, "POST", url+"/.bgfn/api/invocations/"+orig+"/replay", strings.NewReader(tt.replayBody), nil)
			if res.status != http.StatusAccepted {
				t.Fatalf("replay: %d %s, want 202", res.status, res.body)
			}
			var out struct {
				ID       string `json:"id"`
				Status   int    `json:"status"`
				ReplayOf string `json:"replayOf"`
				Location string `json:"location"`
			}
			if err := json.Unmarshal([]byte(res.body), &out); err != nil {
				t.Fatalf("replay body %s: %v", res.body, err)
			}
			if out.ID == "" || out.ID == orig || out.ReplayOf != orig || out.Status != tt.wantStatus || out.Location != "/.bgfn/api/invocations/"+out.ID {
				t.Errorf("replay answer = %+v, want a new id replaying %s with status %d", out, orig, tt.wantStatus)
			}
			rec := waitRecord(t, url, out.ID)
			if rec.ReplayOf != orig || rec.Status != records.Succeeded {
				t.Errorf("replayed record: replayOf %q status %s, want %q succeeded", rec.ReplayOf, rec.Status, orig)
			}
			calls := invoker(tt.fn).Calls()
			if len(calls) != 2 {
				t.Fatalf("%d calls, want 2", len(calls))
			}
			ev := calls[1].event
			if ev.HTTPMethod != "PUT" || ev.Path != "/.netlify/functions/"+tt.fn.Name+"/sub" || ev.RawQuery != "q=1" || ev.Headers["x-custom"] != "kept" {
				t.Errorf("replayed event = %s %s ?%s x-custom %q", ev.HTTPMethod, ev.Path, ev.RawQuery, ev.Headers["x-custom"])
			}
			if ev.Body == nil || *ev.Body != tt.wantBody {
				t.Errorf("replayed body = %v, want %q", ev.Body, tt.wantBody)
			}
			if calls[1].id != out.ID || ev.Headers["x-nf-request-id"] != out.ID {
				t.Errorf("replay ran as %s (x-nf-request-id %s), want %s", calls[1].id, ev.Headers["x-nf-request-id"], out.ID)
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		s, _ := newServer(t, testOptions{})
		url := serve(t, s)
		res := do(t, "POST", url+"/.bgfn/api/invocations/nope/replay", nil, nil)
		if res.status != http.StatusNotFound {
			t.Errorf("status = %d, want 404", res.status)
		}
	})
	t.Run("replay of a failed sync invocation returns its body", func(t *testing.T) {
		bad := fn("bad", discover.KindSync, throw(&runtime.FunctionError{Type: "Error", Message: "no"}))
		s, _ := newServer(t, testOptions{}, bad)
		url := serve(t, s)
		do(t, "GET", url+"/.netlify/functions/bad", nil, nil)
		orig := s.opts.Records.List(records.Filter{})[0].ID
		res := do(t, "POST", url+"/.bgfn/api/invocations/"+orig+"/replay", nil, nil)
		var out map[string]any
		if err := json.Unmarshal([]byte(res.body), &out); err != nil {
			t.Fatal(err)
		}
		if out["status"] != float64(500) || out["body"] != "Error: no" || out["replayOf"] != orig {
			t.Errorf("replay answer = %v, want status 500 with the error body", out)
		}
	})
}

func TestEvents(t *testing.T) {
	hello := fn("hello", discover.KindSync, respond(`{"statusCode":200}`))
	s, _ := newServer(t, testOptions{}, hello)
	url := serve(t, s)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/.bgfn/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	rd := bufio.NewReader(res.Body)
	readLine := func() string {
		t.Helper()
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v", err)
		}
		return strings.TrimSuffix(l, "\n")
	}
	// The comment comes once the stream is subscribed.
	if l := readLine(); l != ": bgfn events" {
		t.Fatalf("first line = %q, want the stream's comment", l)
	}

	id := do(t, "GET", url+"/.netlify/functions/hello", nil, nil).header.Get("X-Bgfn-Invocation-Id")

	var sawLog, sawFinal bool
	for !(sawLog && sawFinal) {
		l := readLine()
		typ, ok := strings.CutPrefix(l, "event: ")
		if !ok {
			continue
		}
		data, ok := strings.CutPrefix(readLine(), "data: ")
		if !ok {
			t.Fatalf("event %s without data", typ)
		}
		var ev records.Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		if ev.Type != typ {
			t.Errorf("event %q carries type %q", typ, ev.Type)
		}
		switch typ {
		case "log":
			if ev.ID == id && ev.Function == "hello" && ev.Log != nil && ev.Log.Line == "hello from attempt 1" {
				sawLog = true
			}
		case "record":
			var rec records.View
			if err := json.Unmarshal(ev.Record, &rec); err != nil {
				t.Fatalf("record event %s: %v", ev.Record, err)
			}
			if rec.ID == id && rec.Status == records.Succeeded {
				sawFinal = true
			}
		default:
			t.Errorf("unknown event type %q", typ)
		}
	}
}

func TestEventsEndOnClose(t *testing.T) {
	s, _ := newServer(t, testOptions{})
	url := serve(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/.bgfn/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	if l, _ := rd.ReadString('\n'); l != ": bgfn events\n" {
		t.Fatalf("first line = %q", l)
	}
	s.Close(context.Background())
	for {
		if _, err := rd.ReadString('\n'); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("stream still open after Close")
			}
			return
		}
	}
}

func TestInfo(t *testing.T) {
	s, _ := newServer(t, testOptions{Info: api.Info{Site: "/home/me/site", PID: 1234, Version: "v0.1.0"}})
	url := serve(t, s)
	res := do(t, "GET", url+"/.bgfn/api/info", nil, nil)
	if res.status != 200 || res.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d Content-Type %q", res.status, res.header.Get("Content-Type"))
	}
	if want := `{"site":"/home/me/site","pid":1234,"version":"v0.1.0"}`; res.body != want {
		t.Errorf("body = %s, want %s", res.body, want)
	}
}
