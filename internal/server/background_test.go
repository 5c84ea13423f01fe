package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// waitRecord waits through the API until invocation id is final.
func waitRecord(t *testing.T, url, id string) *records.View {
	t.Helper()
	res := do(t, "GET", url+"/.bgfn/api/invocations/"+id+"/wait?timeout=5s", nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("wait %s: status %d, want 200 (record: %s)", id, res.status, res.body)
	}
	return decodeRecord(t, res.body)
}

func decodeRecord(t *testing.T, body string) *records.View {
	t.Helper()
	var r records.View
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("decode record %q: %v", body, err)
	}
	return &r
}

func postBackground(t *testing.T, url, name, body string) string {
	t.Helper()
	res := do(t, "POST", url+"/.netlify/functions/"+name, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if res.status != http.StatusAccepted {
		t.Fatalf("POST %s: status %d, want 202 (body %q)", name, res.status, res.body)
	}
	return res.header.Get("X-Bgfn-Invocation-Id")
}

func TestBackgroundAccepted(t *testing.T) {
	bg := fn("hello-background", discover.KindBackground, respond(`"ignored"`))
	s, out := newServer(t, testOptions{Timeout: time.Second, BackgroundTimeout: 7 * time.Second, Retries: 2, RetryDelays: []time.Duration{0}}, bg)
	url := serve(t, s)

	res := do(t, "POST", url+"/.netlify/functions/hello-background?x=1", strings.NewReader(`{"job":42}`), map[string]string{"Content-Type": "application/json"})
	if res.status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202", res.status)
	}
	if res.body != "" {
		t.Errorf("body = %q, want empty", res.body)
	}
	if cl := res.header.Get("Content-Length"); cl != "0" {
		t.Errorf("Content-Length = %q, want 0", cl)
	}
	if ct, ok := res.header["Content-Type"]; ok {
		t.Errorf("Content-Type = %q, want none", ct)
	}
	id := res.header.Get("X-Bgfn-Invocation-Id")
	if len(id) != 20 {
		t.Fatalf("X-Bgfn-Invocation-Id = %q, want an id", id)
	}
	if loc := res.header.Get("Location"); loc != "/.bgfn/api/invocations/"+id {
		t.Errorf("Location = %q, want /.bgfn/api/invocations/%s", loc, id)
	}

	rec := waitRecord(t, url, id)
	if rec.ID != id || rec.Function != "hello-background" || rec.Kind != "background" || rec.Status != records.Succeeded {
		t.Errorf("record = %s %s %s %s, want %s hello-background background succeeded", rec.ID, rec.Function, rec.Kind, rec.Status, id)
	}
	if rec.MaxAttempts != 3 || len(rec.Attempts) != 1 || rec.Attempts[0].Status != records.Succeeded || rec.Attempts[0].Pid != 4242 {
		t.Errorf("attempts = %+v (max %d), want one succeeded attempt of 3 with the pid", rec.Attempts, rec.MaxAttempts)
	}
	if rec.Request.Method != "POST" || rec.Request.Path != "/.netlify/functions/hello-background" || rec.Request.Query != "x=1" || rec.Request.Body != `{"job":42}` {
		t.Errorf("record request = %+v", rec.Request)
	}
	if len(rec.Logs) != 1 || rec.Logs[0].Line != "hello from attempt 1" || rec.Logs[0].Attempt != 1 {
		t.Errorf("record logs = %+v, want the function's line", rec.Logs)
	}
	calls := invoker(bg).Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	if c := calls[0]; !c.background || c.timeout != 7*time.Second || c.id != id || c.event.Body == nil || *c.event.Body != `{"job":42}` {
		t.Errorf("call = background %v timeout %v id %s body %v; want true 7s %s the request body", c.background, c.timeout, c.id, c.event.Body, id)
	}
	// The terminal line follows the record's end; poll for it.
	for _, want := range []string{"⬥ queued (202)", "hello from attempt 1", "✔ succeeded"} {
		eventually(t, func() bool { return strings.Contains(out.String(), want) }, "terminal output has %q", want)
	}
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until "+format, args...)
		}
		<-tick.C
	}
}

func TestBackgroundRetries(t *testing.T) {
	boom := func(n int) *runtime.FunctionError {
		return &runtime.FunctionError{Type: "Error", Message: fmt.Sprintf("boom %d", n)}
	}
	type attempt struct {
		status records.Status
		err    string // "" for none
	}
	tests := []struct {
		name       string
		retries    int
		invoke     invokeFunc
		wantStatus records.Status
		want       []attempt
	}{
		{
			name:    "fails twice then succeeds",
			retries: 2,
			invoke: func(_ context.Context, n int, _ *runtime.Request) (*runtime.Result, error) {
				if n < 3 {
					return &runtime.Result{Error: boom(n)}, nil
				}
				return &runtime.Result{Response: []byte(`{}`)}, nil
			},
			wantStatus: records.Succeeded,
			want:       []attempt{{records.Failed, "Error: boom 1"}, {records.Failed, "Error: boom 2"}, {records.Succeeded, ""}},
		},
		{
			name:    "always fails",
			retries: 2,
			invoke: func(_ context.Context, n int, _ *runtime.Request) (*runtime.Result, error) {
				return &runtime.Result{Error: boom(n)}, nil
			},
			wantStatus: records.Failed,
			want:       []attempt{{records.Failed, "Error: boom 1"}, {records.Failed, "Error: boom 2"}, {records.Failed, "Error: boom 3"}},
		},
		{
			name:    "no retries",
			retries: 0,
			invoke: func(_ context.Context, n int, _ *runtime.Request) (*runtime.Result, error) {
				return &runtime.Result{Error: boom(n)}, nil
			},
			wantStatus: records.Failed,
			want:       []attempt{{records.Failed, "Error: boom 1"}},
		},
		{
			name:       "no retries needed",
			retries:    2,
			invoke:     respond(`{}`),
			wantStatus: records.Succeeded,
			want:       []attempt{{records.Succeeded, ""}},
		},
		{
			name:       "timeouts are retried",
			retries:    1,
			invoke:     fail(&runtime.TimeoutError{Limit: 900 * time.Second}),
			wantStatus: records.TimedOut,
			want: []attempt{
				{records.TimedOut, "TimeoutError: Task timed out after 900.00 seconds"},
				{records.TimedOut, "TimeoutError: Task timed out after 900.00 seconds"},
			},
		},
		{
			name:       "worker crashes",
			retries:    1,
			invoke:     fail(&runtime.ExitError{Exit: "was killed by signal SIGKILL"}),
			wantStatus: records.Failed,
			want: []attempt{
				{records.Failed, "Error: worker was killed by signal SIGKILL during invocation"},
				{records.Failed, "Error: worker was killed by signal SIGKILL during invocation"},
			},
		},
		{
			name:    "a bad return value is not an error",
			retries: 2,
			invoke: func(context.Context, int, *runtime.Request) (*runtime.Result, error) {
				return &runtime.Result{Undefined: true}, nil
			},
			wantStatus: records.Succeeded,
			want:       []attempt{{records.Succeeded, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bg := fn("job-background", discover.KindBackground, tt.invoke)
			s, _ := newServer(t, testOptions{Retries: tt.retries, RetryDelays: []time.Duration{0, 0}}, bg)
			url := serve(t, s)
			id := postBackground(t, url, "job-background", `{}`)
			rec := waitRecord(t, url, id)
			if rec.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q", rec.Status, tt.wantStatus)
			}
			if rec.MaxAttempts != tt.retries+1 {
				t.Errorf("maxAttempts = %d, want %d", rec.MaxAttempts, tt.retries+1)
			}
			if len(rec.Attempts) != len(tt.want) {
				t.Fatalf("%d attempts %+v, want %d", len(rec.Attempts), rec.Attempts, len(tt.want))
			}
			for i, w := range tt.want {
				a := rec.Attempts[i]
				got := ""
				if a.Error != nil {
					got = a.Error.Error()
				}
				if a.N != i+1 || a.Status != w.status || got != w.err || a.EndedAt == nil {
					t.Errorf("attempt %d = n %d %s %q, want n %d %s %q", i+1, a.N, a.Status, got, i+1, w.status, w.err)
				}
			}
			if n := len(invoker(bg).Calls()); n != len(tt.want) {
				t.Errorf("invoked %d times, want %d", n, len(tt.want))
			}
			// Every attempt's log lines are kept, with their attempt.
			if len(rec.Logs) != len(tt.want) || rec.Logs[len(rec.Logs)-1].Attempt != len(tt.want) {
				t.Errorf("logs = %+v, want one line per attempt", rec.Logs)
			}
		})
	}
}

// TestBackgroundRetryDelays runs retries on a fake clock: each waits its
// delay, and the last delay repeats.
func TestBackgroundRetryDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bg := fn("job-background", discover.KindBackground, func(_ context.Context, n int, _ *runtime.Request) (*runtime.Result, error) {
			return &runtime.Result{Error: &runtime.FunctionError{Type: "Error", Message: fmt.Sprint("boom ", n)}}, nil
		})
		s, out := newServer(t, testOptions{Retries: 3, RetryDelays: []time.Duration{time.Minute, 2 * time.Minute}}, bg)
		defer s.Close(context.Background())
		rw := httptest.NewRecorder()
		s.ServeHTTP(rw, httptest.NewRequest("POST", "/.netlify/functions/job-background", strings.NewReader("{}")))
		if rw.Code != http.StatusAccepted {
			t.Fatalf("status %d, want 202", rw.Code)
		}
		rec, ok := s.opts.Records.Get(rw.Header().Get("X-Bgfn-Invocation-Id"))
		if !ok {
			t.Fatalf("no record for %q", rw.Header().Get("X-Bgfn-Invocation-Id"))
		}
		start := time.Now()
		synctest.Wait()
		for i, delay := range []time.Duration{time.Minute, 2 * time.Minute, 2 * time.Minute} {
			snap := rec.View()
			if snap.Status != records.Retrying || len(snap.Attempts) != i+1 {
				t.Fatalf("after attempt %d: status %s with %d attempts, want retrying with %d", i+1, snap.Status, len(snap.Attempts), i+1)
			}
			if want := time.Now().Add(delay); snap.NextRetryAt == nil || !snap.NextRetryAt.Equal(want) {
				t.Errorf("after attempt %d: nextRetryAt = %v, want %v", i+1, snap.NextRetryAt, want)
			}
			time.Sleep(delay - time.Nanosecond)
			synctest.Wait()
			if n := rec.AttemptCount(); n != i+1 {
				t.Fatalf("attempt %d started before its delay of %v", n, delay)
			}
			time.Sleep(time.Nanosecond)
			synctest.Wait()
		}
		snap := rec.View()
		if snap.Status != records.Failed || len(snap.Attempts) != 4 {
			t.Fatalf("final status %s with %d attempts, want failed with 4", snap.Status, len(snap.Attempts))
		}
		if took := time.Since(start); took != 5*time.Minute {
			t.Errorf("retries took %v, want 5m (1m + 2m + 2m)", took)
		}
		for _, want := range []string{"(attempt 1/4)", "retrying in 1m", "retrying in 2m", "(attempt 4/4)", "boom 4"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("terminal output lacks %q:\n%s", want, out)
			}
		}
	})
}

// blockUntil returns an invoker that blocks until release is closed (then
// succeeds) or ctx ends (then returns its error, as a killed worker does).
func blockUntil(release <-chan struct{}) invokeFunc {
	return func(ctx context.Context, _ int, _ *runtime.Request) (*runtime.Result, error) {
		select {
		case <-release:
			return &runtime.Result{Response: []byte(`{}`)}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func TestBackgroundQueueLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		bg := fn("slow-background", discover.KindBackground, blockUntil(release))
		s, _ := newServer(t, testOptions{MaxBackgroundRunning: 2}, bg)
		defer s.Close(context.Background())
		var recs []*records.Record
		for range 5 {
			rw := httptest.NewRecorder()
			s.ServeHTTP(rw, httptest.NewRequest("POST", "/.netlify/functions/slow-background", nil))
			rec, _ := s.opts.Records.Get(rw.Header().Get("X-Bgfn-Invocation-Id"))
			recs = append(recs, rec)
		}
		synctest.Wait()
		var statuses []records.Status
		for _, r := range recs {
			statuses = append(statuses, r.Status())
		}
		want := []records.Status{records.Running, records.Running, records.Queued, records.Queued, records.Queued}
		if fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Errorf("statuses = %v, want %v (two at once, in arrival order)", statuses, want)
		}
		close(release)
		synctest.Wait()
		for i, r := range recs {
			if st := r.Status(); st != records.Succeeded {
				t.Errorf("invocation %d: %s, want succeeded", i, st)
			}
		}
	})
}

func TestDrain(t *testing.T) {
	hello := fn("hello", discover.KindSync, respond(`{"statusCode":200}`))
	bg := fn("hello-background", discover.KindBackground, respond(`{}`))
	s, _ := newServer(t, testOptions{Info: api.Info{Site: "site"}}, hello, bg)
	url := serve(t, s)
	s.Drain()
	tests := []struct {
		method, path string
		wantStatus   int
	}{
		{"GET", "/.netlify/functions/hello", http.StatusServiceUnavailable},
		{"POST", "/.netlify/functions/hello-background", http.StatusServiceUnavailable},
		{"GET", "/.netlify/functions/nope", http.StatusNotFound},
		{"GET", "/.bgfn/api/info", http.StatusOK},
		{"GET", "/.bgfn/api/invocations", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := do(t, tt.method, url+tt.path, nil, nil)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusServiceUnavailable {
				if ra := res.header.Get("Retry-After"); ra == "" {
					t.Errorf("no Retry-After")
				}
				if !strings.Contains(res.body, "shutting down") {
					t.Errorf("body = %q, want it to say bgfn is shutting down", res.body)
				}
			}
		})
	}
	if n := len(invoker(hello).Calls()) + len(invoker(bg).Calls()); n != 0 {
		t.Errorf("%d invocations while draining, want none", n)
	}
	if recs := s.opts.Records.List(records.Filter{}); len(recs) != 0 {
		t.Errorf("%d records while draining, want none", len(recs))
	}
}

// TestDrainAndClose covers shutdown: Drain lets running invocations finish
// but starts no queued one; Close interrupts what is running, queued or
// waiting for a retry.
func TestDrainAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		slow := fn("slow-background", discover.KindBackground, blockUntil(release))
		stuck := fn("stuck-background", discover.KindBackground, blockUntil(nil))
		flaky := fn("flaky-background", discover.KindBackground, fail(errors.New("flaky")))
		s, _ := newServer(t, testOptions{MaxBackgroundRunning: 1, Retries: 2, RetryDelays: []time.Duration{time.Hour}}, slow, stuck, flaky)
		post := func(name string) *records.Record {
			t.Helper()
			rw := httptest.NewRecorder()
			s.ServeHTTP(rw, httptest.NewRequest("POST", "/.netlify/functions/"+name, nil))
			if rw.Code != http.StatusAccepted {
				t.Fatalf("POST %s: %d", name, rw.Code)
			}
			rec, _ := s.opts.Records.Get(rw.Header().Get("X-Bgfn-Invocation-Id"))
			return rec
		}
		a, b := post("slow-background"), post("slow-background")
		c := post("stuck-background")
		d := post("flaky-background")
		synctest.Wait()
		check := func(when string, want map[*records.Record]records.Status) {
			t.Helper()
			for r, st := range want {
				if got := r.Status(); got != st {
					t.Errorf("%s: %s is %s, want %s", when, r.Function(), got, st)
				}
			}
		}
		check("before drain", map[*records.Record]records.Status{a: records.Running, b: records.Queued, c: records.Running, d: records.Retrying})

		s.Drain()
		close(release)
		synctest.Wait()
		check("after drain", map[*records.Record]records.Status{a: records.Succeeded, b: records.Queued, c: records.Running, d: records.Retrying})
		if n := len(invoker(slow).Calls()); n != 1 {
			t.Errorf("slow-background invoked %d times while draining, want 1", n)
		}

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with stuck-background running = %v, want the deadline", err)
		}
		cancel()

		s.Close(context.Background())
		check("after close", map[*records.Record]records.Status{a: records.Succeeded, b: records.Interrupted, c: records.Interrupted, d: records.Interrupted})
		if got := s.opts.Records.Unfinished(); len(got) != 0 {
			t.Errorf("%d unfinished records after Close", len(got))
		}
		snap := c.View()
		if len(snap.Attempts) != 1 || snap.Attempts[0].Status != records.Interrupted || snap.Attempts[0].Error == nil || snap.Attempts[0].Error.Type != "Interrupted" {
			t.Errorf("stuck-background attempts = %+v, want one interrupted attempt", snap.Attempts)
		}
		if err := s.Wait(t.Context()); err != nil {
			t.Errorf("Wait after Close = %v", err)
		}
		// A retry timer must not start an attempt after Close.
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if n := len(invoker(flaky).Calls()); n != 1 {
			t.Errorf("flaky-background invoked %d times after Close, want 1", n)
		}
		rw := httptest.NewRecorder()
		s.ServeHTTP(rw, httptest.NewRequest("GET", "/.netlify/functions/slow-background", nil))
		if rw.Code != http.StatusServiceUnavailable {
			t.Errorf("request after Close: %d, want 503", rw.Code)
		}
	})
}
