package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBgfn serves what the runner asks of bgfn: functions that answer
// with an invocation id, and the records API.
type fakeBgfn struct {
	t  *testing.T
	mu sync.Mutex
	n  int
	// records by id; waits counts the /wait calls of each.
	records map[string]*Record
	waits   map[string]int
	items   map[string]string
	// events is the order requests started and ended: "start NAME".
	events []string
	// inflight and peak count the function requests running at once;
	// together is closed once peak reaches gate (0: no gate).
	inflight, peak, gate int
	together             chan struct{}
	seen                 []*http.Request
}

func newFake(t *testing.T, gate int) (*fakeBgfn, *httptest.Server) {
	f := &fakeBgfn{t: t, records: map[string]*Record{}, waits: map[string]int{}, items: map[string]string{}, gate: gate, together: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/.netlify/functions/{name}", f.function)
	mux.HandleFunc("GET /.bgfn/api/invocations/{id}", f.record)
	mux.HandleFunc("GET /.bgfn/api/invocations/{id}/wait", f.wait)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeBgfn) newID(rec *Record) string {
	f.n++
	id := fmt.Sprintf("%020d", f.n)
	rec.ID = id
	f.records[id] = rec
	return id
}

func (f *fakeBgfn) function(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	label := name
	if c := r.URL.Query().Get("case"); c != "" {
		label = c
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, r)
	f.events = append(f.events, "start "+label)
	f.inflight++
	if f.inflight > f.peak {
		f.peak = f.inflight
		if f.gate > 0 && f.peak == f.gate {
			close(f.together)
		}
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.events = append(f.events, "end "+label)
		f.mu.Unlock()
	}()

	switch name {
	case "gated":
		// Held until gate requests run at once, so that a test sees the
		// runner reach its limit; a deadline keeps a broken runner from
		// hanging the test.
		select {
		case <-f.together:
		case <-time.After(5 * time.Second):
		}
	case "hang":
		<-r.Context().Done()
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch name {
	case "hello", "gated":
		id := f.newID(&Record{Status: "succeeded", MaxAttempts: 1, Logs: []LogLine{{Attempt: 1, Line: "greeting " + r.URL.Query().Get("name")}}})
		w.Header().Set(invocationHeader, id)
		fmt.Fprintf(w, `{"greeting":"Hello, %s!"}`, r.URL.Query().Get("name"))
	case "create-item":
		var in struct{ Name string }
		json.Unmarshal(body, &in)
		id := fmt.Sprintf("item%d", len(f.items)+1)
		f.items[id] = in.Name
		w.Header().Set("Location", "/.netlify/functions/get-item?id="+id)
		w.Header().Set(invocationHeader, f.newID(&Record{Status: "succeeded", MaxAttempts: 1}))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q,"name":%q}`, id, in.Name)
	case "get-item":
		w.Header().Set(invocationHeader, f.newID(&Record{Status: "succeeded", MaxAttempts: 1}))
		name, ok := f.items[r.URL.Query().Get("id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"no item"}`)
			return
		}
		fmt.Fprintf(w, `{"name":%q}`, name)
	case "slow-background":
		rec := &Record{Function: "slow-background", Status: "running", MaxAttempts: 3, Attempts: []Attempt{{N: 1, Status: "running"}}}
		w.Header().Set(invocationHeader, f.newID(rec))
		w.WriteHeader(http.StatusAccepted)
	case "flaky-background":
		var in struct{ Fails int }
		json.Unmarshal(body, &in)
		rec := &Record{Status: "running", MaxAttempts: 3}
		for n := 1; n <= min(in.Fails+1, 3); n++ {
			a := Attempt{N: n, Status: "succeeded"}
			if n <= in.Fails {
				a.Status, a.Error = "failed", &FunctionError{Type: "Error", Message: fmt.Sprintf("attempt %d failed", n)}
			}
			rec.Attempts = append(rec.Attempts, a)
			rec.Logs = append(rec.Logs, LogLine{Attempt: n, Line: fmt.Sprintf("attempt %d", n)})
		}
		w.Header().Set(invocationHeader, f.newID(rec))
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Function not found...")
	}
}

func (f *fakeBgfn) record(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.records[r.PathValue("id")]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	json.NewEncoder(w).Encode(rec)
}

// wait answers 202 with the record running on the first call for an id,
// and the final record on the second, as a background function that takes
// a while.
func (f *fakeBgfn) wait(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	rec, ok := f.records[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	timeout, err := time.ParseDuration(r.URL.Query().Get("timeout"))
	if err != nil {
		f.t.Errorf("wait timeout %q is not a duration", r.URL.Query().Get("timeout"))
	}
	if rec.Function == "slow-background" {
		// Never ends: answer as bgfn does when the wait's timeout passes.
		f.mu.Unlock()
		select {
		case <-time.After(timeout):
		case <-r.Context().Done():
		}
		f.mu.Lock()
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(rec)
		return
	}
	f.waits[id]++
	if f.waits[id] == 1 {
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(rec)
		return
	}
	final := *rec
	final.Status, final.DurationMs = "succeeded", 1500
	if n := len(rec.Attempts); n > 0 && rec.Attempts[n-1].Error != nil {
		final.Status = "failed"
	}
	json.NewEncoder(w).Encode(final)
}

// recorder keeps what a reporter hears.
type recorder struct {
	started  []string
	finished []*Result
}

func (r *recorder) Start(c *Case)      { r.started = append(r.started, c.Name) }
func (r *recorder) Finish(res *Result) { r.finished = append(r.finished, res) }

func mustParse(t *testing.T, src string) *Suite {
	t.Helper()
	s, err := Parse("smoke.toml", []byte(src), testSite)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunner(t *testing.T) {
	f, srv := newFake(t, 0)
	s := mustParse(t, `
[[case]]
name = "greets"
function = "hello"
query = { name = "Ada" }
[case.expect]
json = { greeting = "Hello, Ada!" }
log_contains = "greeting Ada"

[[case]]
name = "create"
function = "create-item"
json = { name = "Grace" }
[case.expect]
status = 201
[case.capture]
id = { json = "id" }
where = { header = "Location" }

[[case]]
name = "read"
function = "get-item"
query = "id=${id}"
headers = { X-Where = "${where}" }
[case.expect]
json = { name = "Grace" }

[[case]]
name = "create fails"
function = "create-item"
json = { name = "Hopper" }
[case.expect]
status = 200
[case.capture]
other = { json = "id" }

[[case]]
name = "read what was not made"
function = "get-item"
query = "id=${other}"

[[case]]
name = "retried"
function = "flaky-background"
json = { fails = 2 }
wait = true
[case.expect]
attempts = 3
log_contains = "attempt 3"

[[case]]
name = "fails for good"
function = "flaky-background"
json = { fails = 3 }
wait = true
`)
	rec := &recorder{}
	r := &Runner{Base: srv.URL, Client: srv.Client(), Parallel: 4, Reporter: rec}
	results := r.Run(t.Context(), []*Suite{s})

	want := []struct {
		outcome Outcome
		detail  string
	}{
		{Passed, ""},
		{Passed, ""},
		{Passed, ""},
		{Failed, "status: expected 200 OK, got 201 Created"},
		{Skipped, `needs ${other}, which "create fails" did not capture (it failed)`},
		{Passed, ""},
		{Failed, `state: expected "succeeded", got "failed" after 3 attempts: Error: attempt 3 failed`},
	}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d", len(results), len(want))
	}
	for i, w := range want {
		res := results[i]
		if res.Case != s.Cases[i] {
			t.Errorf("result %d is of case %q, want the file order", i, res.Case.Name)
		}
		if res.Outcome != w.outcome {
			t.Errorf("%s: outcome %s, want %s (failures %v, err %v)", res.Case.Name, res.Outcome, w.outcome, res.Failures, res.Err)
		}
		got := ""
		switch {
		case len(res.Failures) > 0:
			got = res.Failures[0].String()
		case res.Err != nil:
			got = res.Err.Error()
		}
		if !strings.Contains(got, w.detail) {
			t.Errorf("%s: %q, want %q", res.Case.Name, got, w.detail)
		}
	}
	if results[5].Record == nil || len(results[5].Record.Logs) != 3 {
		t.Errorf("retried: record %+v, want its 3 log lines", results[5].Record)
	}

	// create and create fails run in either order: find Grace's id.
	grace := ""
	for id, name := range f.items {
		if name == "Grace" {
			grace = id
		}
	}
	var read *http.Request
	for _, r := range f.seen {
		if r.URL.Path == "/.netlify/functions/get-item" && r.URL.Query().Get("id") == grace {
			read = r
		}
	}
	switch {
	case read == nil:
		t.Errorf("read did not GET get-item?id=%s (the captured id)", grace)
	case read.Header.Get("X-Where") != "/.netlify/functions/get-item?id="+grace:
		t.Errorf("read sent X-Where %q, want the captured Location", read.Header.Get("X-Where"))
	}
	for _, r := range f.seen {
		if r.URL.Path == "/.netlify/functions/create-item" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("json body sent with Content-Type %q", r.Header.Get("Content-Type"))
		}
	}
	if len(rec.started) != 6 || len(rec.finished) != 7 {
		t.Errorf("reporter heard %d starts and %d ends, want 6 (the skipped case does not start) and 7", len(rec.started), len(rec.finished))
	}
}

// TestParallel checks that the runner runs as many cases at once as it is
// allowed, and never more.
func TestParallel(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			gate := limit
			f, srv := newFake(t, gate)
			var src strings.Builder
			for i := range 8 {
				fmt.Fprintf(&src, "[[case]]\nname = \"c%d\"\nfunction = \"gated\"\n", i)
			}
			r := &Runner{Base: srv.URL, Client: srv.Client(), Parallel: limit}
			start := time.Now()
			results := r.Run(t.Context(), []*Suite{mustParse(t, src.String())})
			for _, res := range results {
				if !res.OK() {
					t.Errorf("%s: %s %v %v", res.Case.Name, res.Outcome, res.Failures, res.Err)
				}
			}
			if f.peak != limit {
				t.Errorf("at most %d cases ran at once, want %d", f.peak, limit)
			}
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("took %v: the cases did not reach %d at once (the gate's deadline let them go)", took, limit)
			}
		})
	}
}

// TestOrder checks that a serial case runs alone and a case that uses a
// variable runs after the case that captures it, even when the runner
// could run them all at once.
func TestOrder(t *testing.T) {
	f, srv := newFake(t, 2)
	s := mustParse(t, `
[[case]]
function = "gated"
query = "case=a"
[[case]]
function = "gated"
query = "case=b"
[[case]]
function = "hello"
query = "case=serial"
serial = true
[[case]]
function = "create-item"
query = "case=create"
json = { name = "x" }
[case.capture]
id = { json = "id" }
[[case]]
function = "get-item"
query = { case = "read", id = "${id}" }
[[case]]
function = "hello"
query = "case=free"
`)
	r := &Runner{Base: srv.URL, Client: srv.Client(), Parallel: 8}
	for _, res := range r.Run(t.Context(), []*Suite{s}) {
		if !res.OK() {
			t.Errorf("%s: %s %v %v", res.Case.Name, res.Outcome, res.Failures, res.Err)
		}
	}
	at := func(ev string) int {
		i := slices.Index(f.events, ev)
		if i < 0 {
			t.Fatalf("no %q in %v", ev, f.events)
		}
		return i
	}
	before := func(a, b string) {
		if at(a) > at(b) {
			t.Errorf("%q came after %q: %v", a, b, f.events)
		}
	}
	before("end a", "start serial")
	before("end b", "start serial")
	before("end serial", "start create")
	before("end serial", "start free")
	before("end create", "start read")
	if f.peak != 2 {
		t.Errorf("peak %d: a and b did not run together", f.peak)
	}
}

func TestRunnerErrors(t *testing.T) {
	_, srv := newFake(t, 0)
	s := mustParse(t, `
[[case]]
name = "hangs"
path = "/.netlify/functions/hang"
timeout = "100ms"

[[case]]
name = "not background"
path = "/.netlify/functions/hello"
wait = true

[[case]]
name = "never ends"
path = "/.netlify/functions/slow-background"
wait = true
timeout = "300ms"
`)
	results := (&Runner{Base: srv.URL, Client: srv.Client(), Parallel: 2}).Run(t.Context(), []*Suite{s})
	if r := results[0]; r.Outcome != Errored || !strings.Contains(r.Err.Error(), "timed out after 100ms") {
		t.Errorf("hangs: %s %v, want an error saying it timed out", r.Outcome, r.Err)
	}
	if r := results[1]; r.Outcome != Failed || len(r.Failures) != 1 || !strings.Contains(r.Failures[0].String(), "wait: expected 202 Accepted") {
		t.Errorf("not background: %s %v, want a wait failure", r.Outcome, r.Failures)
	}
	if r := results[2]; r.Outcome != Errored || !strings.Contains(r.Err.Error(), "timed out after 300ms for invocation 0") || !strings.Contains(r.Err.Error(), "to end (it was running after 1 attempt)") || r.Record == nil {
		t.Errorf("never ends: %s %v (record %v), want a timeout naming the state so far", r.Outcome, r.Err, r.Record)
	}
	if r := results[0]; !strings.HasPrefix(r.Err.Error(), "timed out after 100ms for the answer") {
		t.Errorf("hangs: %v", r.Err)
	}

	srv.Close()
	results = (&Runner{Base: srv.URL, Client: srv.Client()}).Run(t.Context(), []*Suite{mustParse(t, "[[case]]\nfunction = \"hello\"\n")})
	if r := results[0]; r.Outcome != Errored || !strings.Contains(r.Err.Error(), "GET "+srv.URL+"/.netlify/functions/hello: ") {
		t.Errorf("server gone: %s %v", r.Outcome, r.Err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	results = (&Runner{Base: srv.URL, Client: srv.Client()}).Run(ctx, []*Suite{mustParse(t, "[[case]]\nfunction = \"hello\"\n")})
	if r := results[0]; r.Outcome != Skipped || !strings.Contains(r.Err.Error(), "interrupted") {
		t.Errorf("cancelled: %s %v, want skipped as interrupted", r.Outcome, r.Err)
	}
}

// TestSchedule checks the scheduler on its own: every job runs once, after
// its dependencies, and no more than the limit at once.
func TestSchedule(t *testing.T) {
	deps := [][]int{{}, {0}, {}, {1, 2}, {}, {3}, {}, {}}
	var mu sync.Mutex
	var order []int
	running, peak := 0, 0
	schedule(len(deps), 2, func(i int) []int { return deps[i] }, func(i int) {
		mu.Lock()
		running++
		peak = max(peak, running)
		for _, d := range deps[i] {
			if !slices.Contains(order, d) {
				t.Errorf("job %d started before its dependency %d ended", i, d)
			}
		}
		mu.Unlock()
		mu.Lock()
		running--
		order = append(order, i)
		mu.Unlock()
	})
	if len(order) != len(deps) {
		t.Errorf("ran %v, want each of %d jobs once", order, len(deps))
	}
	if peak > 2 {
		t.Errorf("%d jobs ran at once, limit 2", peak)
	}
}
