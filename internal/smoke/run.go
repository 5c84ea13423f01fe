package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
)

// Doer sends one HTTP request; *http.Client is one. The runner reaches bgfn
// only through it, so tests can serve it with httptest.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Outcome is how a case ended.
type Outcome string

// Outcomes. Failed means an expectation was not met; Errored that the case
// could not get that far (no answer, a timeout); Skipped that a variable it
// needs was not captured, or that bgfn smoke was interrupted first.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Errored Outcome = "error"
	Skipped Outcome = "skipped"
)

// Result is how one case went.
type Result struct {
	Case    *Case
	Outcome Outcome
	// Failures are the expectations not met (Failed).
	Failures []Failure
	// Err says why the case errored or was skipped.
	Err      error
	Started  time.Time
	Duration time.Duration

	Status       int
	Header       http.Header
	Body         []byte
	InvocationID string
	// Record is the invocation's record, when the server had one.
	Record *Record
}

// OK reports whether the case passed.
func (r *Result) OK() bool { return r.Outcome == Passed }

// DefaultTimeout bounds a case when neither the case nor the runner says
// otherwise: long enough for a background function's two retries at
// Netlify's delays (1 and 2 minutes).
const DefaultTimeout = 5 * time.Minute

// maxBody bounds the answer bodies the runner reads.
const maxBody = 32 << 20

// invocationHeader names a request's invocation record.
const invocationHeader = "X-Bgfn-Invocation-Id"

// Runner runs cases against a bgfn server, over HTTP only.
type Runner struct {
	// Base is the server's URL, e.g. http://127.0.0.1:9999.
	Base   string
	Client Doer
	// Parallel is how many cases run at once; less than 1 means 1.
	Parallel int
	// Timeout bounds a case that sets none (DefaultTimeout when 0).
	Timeout time.Duration
	// Reporter hears of every case as it starts and ends; the runner
	// serialises the calls. Nil reports nothing.
	Reporter Reporter

	mu sync.Mutex
}

// suiteVars are the values captured by one file's cases so far.
type suiteVars struct {
	mu   sync.Mutex
	vars map[string]string
}

// Run runs every case of the suites and returns their results, in file
// order. A cancelled ctx skips the cases that have not started.
func (r *Runner) Run(ctx context.Context, suites []*Suite) []*Result {
	type job struct {
		c    *Case
		vars *suiteVars
		deps []int
		base int
	}
	var jobs []job
	for _, s := range suites {
		sv := &suiteVars{vars: map[string]string{}}
		base := len(jobs)
		for _, c := range s.Cases {
			deps := make([]int, len(c.deps))
			for i, d := range c.deps {
				deps[i] = base + d
			}
			jobs = append(jobs, job{c: c, vars: sv, deps: deps, base: base})
		}
	}
	results := make([]*Result, len(jobs))
	schedule(len(jobs), r.Parallel, func(i int) []int { return jobs[i].deps }, func(i int) {
		j := jobs[i]
		results[i] = r.runJob(ctx, j.c, j.vars, func(k int) *Result { return results[j.base+k] })
	})
	return results
}

// schedule runs n jobs, at most limit at a time, each once the jobs it
// depends on (all earlier ones) have ended; ready jobs start in order.
func schedule(n, limit int, deps func(int) []int, run func(int)) {
	var g errgroup.Group
	g.SetLimit(max(limit, 1))
	ended := make(chan int, n)
	started := make([]bool, n)
	done := make([]bool, n)
	ready := func(i int) bool {
		for _, d := range deps(i) {
			if !done[d] {
				return false
			}
		}
		return true
	}
	for left := n; left > 0; left-- {
		for i := range n {
			if !started[i] && ready(i) {
				started[i] = true
				g.Go(func() error {
					run(i)
					ended <- i
					return nil
				})
			}
		}
		done[<-ended] = true
	}
	g.Wait()
}

// runJob runs one case, or skips it, and reports it. result returns the
// result of a case of the same file that has ended.
func (r *Runner) runJob(ctx context.Context, c *Case, sv *suiteVars, result func(int) *Result) *Result {
	res := &Result{Case: c, Started: time.Now()}
	sv.mu.Lock()
	vars := make(map[string]string, len(c.uses))
	missing := ""
	for _, v := range c.uses {
		val, ok := sv.vars[v]
		if !ok && missing == "" {
			missing = v
		}
		vars[v] = val
	}
	sv.mu.Unlock()

	switch {
	case ctx.Err() != nil:
		res.Outcome, res.Err = Skipped, errors.New("interrupted before it started")
	case missing != "":
		p := result(c.provider[missing])
		res.Outcome, res.Err = Skipped, fmt.Errorf("needs ${%s}, which %q did not capture (it %s)", missing, p.Case.Name, pastTense(p.Outcome))
	default:
		r.report(func(rep Reporter) { rep.Start(c) })
		captured := r.runCase(ctx, c, vars, res)
		sv.mu.Lock()
		for _, cap := range c.captures {
			// A later case must not run with a stale value.
			delete(sv.vars, cap.name)
		}
		for k, v := range captured {
			sv.vars[k] = v
		}
		sv.mu.Unlock()
	}
	res.Duration = time.Since(res.Started)
	r.report(func(rep Reporter) { rep.Finish(res) })
	return res
}

func pastTense(o Outcome) string {
	switch o {
	case Failed:
		return "failed"
	case Errored:
		return "could not run"
	case Skipped:
		return "was skipped"
	}
	return "passed"
}

func (r *Runner) report(f func(Reporter)) {
	if r.Reporter == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.Reporter)
}

// runCase sends the case's request, follows a background invocation when
// the case waits, checks the answer and returns what it captured.
func (r *Runner) runCase(parent context.Context, c *Case, vars map[string]string, res *Result) map[string]string {
	limit := c.Timeout
	if limit <= 0 {
		limit = r.Timeout
	}
	if limit <= 0 {
		limit = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	// fail ends the case as errored; waiting says what it waited for, for
	// a timeout's message.
	fail := func(err error, waiting string) map[string]string {
		res.Outcome = Errored
		switch {
		case parent.Err() != nil:
			res.Err = errors.New("interrupted")
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			res.Err = fmt.Errorf("timed out after %s %s (set timeout in the case, or --timeout)", limit, waiting)
		default:
			res.Err = err
		}
		return nil
	}

	req, err := r.request(ctx, c, vars)
	if err != nil {
		return fail(err, "")
	}
	start := time.Now()
	resp, err := r.Client.Do(req)
	if err != nil {
		return fail(fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), unwrapURL(err)), "for the answer")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		return fail(fmt.Errorf("read the answer: %w", err), "for the answer")
	}
	if len(body) > maxBody {
		return fail(fmt.Errorf("the answer is over %d MB", maxBody>>20), "")
	}
	o := &observation{status: resp.StatusCode, header: resp.Header, body: body, took: time.Since(start)}
	id := resp.Header.Get(invocationHeader)
	res.Status, res.Header, res.Body, res.InvocationID = resp.StatusCode, resp.Header, body, id

	switch {
	case c.Wait:
		if resp.StatusCode != http.StatusAccepted || id == "" {
			res.Outcome = Failed
			res.Failures = []Failure{{Key: "wait", Message: fmt.Sprintf("expected 202 Accepted with an invocation id (a background function), got %s", statusText(resp.StatusCode))}}
			return nil
		}
		rec, err := r.wait(ctx, id)
		res.Record = rec
		if err != nil {
			waiting := "for invocation " + id + " to end"
			if rec != nil {
				waiting += fmt.Sprintf(" (it was %s after %s)", rec.Status, plural(len(rec.Attempts), "attempt"))
			}
			return fail(fmt.Errorf("wait for invocation %s: %w", id, err), waiting)
		}
		o.record, o.took = rec, rec.Duration()
	case id == "":
		o.recordErr = fmt.Errorf("the answer has no %s header", invocationHeader)
	case resp.StatusCode == http.StatusAccepted:
		o.recordErr = errors.New("a background invocation has its log once it ends: set wait = true")
	default:
		o.record, o.recordErr = r.record(ctx, id, "")
		res.Record = o.record
	}

	for _, ch := range c.checks {
		if f := ch.check(o, vars); f != nil {
			res.Failures = append(res.Failures, *f)
		}
	}
	if len(res.Failures) > 0 {
		res.Outcome = Failed
		return nil
	}
	captured, f := captures(c, o)
	if f != nil {
		res.Outcome, res.Failures = Failed, []Failure{*f}
		return nil
	}
	res.Outcome = Passed
	return captured
}

// captures takes the values a passing case captures.
func captures(c *Case, o *observation) (map[string]string, *Failure) {
	out := make(map[string]string, len(c.captures))
	for _, cap := range c.captures {
		key := "capture " + cap.name
		if cap.json != nil {
			v, err := o.bodyJSON()
			if err != nil {
				return nil, &Failure{Key: key, Message: "the body is not JSON: " + err.Error()}
			}
			got, ok := lookup(v, *cap.json)
			if !ok {
				return nil, &Failure{Key: key, Message: fmt.Sprintf("no JSON value at %q", *cap.json)}
			}
			out[cap.name] = captureText(got)
			continue
		}
		vals, ok := o.header[cap.header]
		if !ok || len(vals) == 0 {
			return nil, &Failure{Key: key, Message: "the answer has no " + cap.header + " header"}
		}
		out[cap.name] = vals[0]
	}
	return out, nil
}

// request builds the case's request with the variables filled in.
func (r *Runner) request(ctx context.Context, c *Case, vars map[string]string) (*http.Request, error) {
	u := strings.TrimSuffix(r.Base, "/")
	if c.Function != "" {
		u += "/.netlify/functions/" + url.PathEscape(c.Function)
	} else {
		p := c.Path.expand(vars)
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("path %s is %q, which does not start with /", c.Path, p)
		}
		u += p
	}
	q := strings.TrimPrefix(c.query.expand(vars), "?")
	if c.queryTable != nil {
		vals := url.Values{}
		for k, t := range c.queryTable {
			vals.Set(k, t.expand(vars))
		}
		q = vals.Encode()
	}
	if q != "" {
		u += "?" + q
	}
	body, ctype, err := c.body.bytes(vars)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build the request: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.scheduled {
		// What Netlify's scheduler sends, as bgfn invoke does.
		req.Header.Set("User-Agent", "Netlify Clockwork")
		req.Header.Set("X-NF-Event", "schedule")
	}
	for _, k := range sortedKeys(c.headers) {
		v := c.headers[k].expand(vars)
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// bytes returns the body and the Content-Type it calls for.
func (b requestBody) bytes(vars map[string]string) ([]byte, string, error) {
	var out []byte
	switch {
	case !b.set:
		return nil, "", nil
	case b.json != nil:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(expandTree(b.json, vars)); err != nil {
			return nil, "", fmt.Errorf("encode the json body: %w", err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), "application/json", nil
	case b.text != nil:
		out = []byte(b.text.expand(vars))
	default:
		out = b.raw
	}
	switch {
	case len(out) == 0:
		return out, "", nil
	case json.Valid(out):
		return out, "application/json", nil
	case utf8.Valid(out):
		return out, "text/plain; charset=utf-8", nil
	}
	return out, "application/octet-stream", nil
}

// wait follows a background invocation until it is final, returning the
// record as it last stood.
func (r *Runner) wait(ctx context.Context, id string) (*Record, error) {
	var last *Record
	for {
		// Ask for less than the time left, so that a case that times out
		// still has the record as it stood.
		step := 10 * time.Second
		if d, ok := ctx.Deadline(); ok {
			step = min(step, max(time.Until(d)/2, 10*time.Millisecond))
		}
		rec, err := r.record(ctx, id, "/wait?timeout="+step.String())
		if err != nil {
			return last, err
		}
		last = rec
		if rec.Final() {
			return rec, nil
		}
		if err := ctx.Err(); err != nil {
			return last, err
		}
	}
}

// record gets an invocation record (suffix "/wait?..." waits for it).
func (r *Runner) record(ctx context.Context, id, suffix string) (*Record, error) {
	u := strings.TrimSuffix(r.Base, "/") + "/.bgfn/api/invocations/" + url.PathEscape(id) + suffix
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get the invocation record: %w", unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("get the invocation record: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	rec := new(Record)
	if err := json.NewDecoder(resp.Body).Decode(rec); err != nil {
		return nil, fmt.Errorf("decode the invocation record: %w", err)
	}
	return rec, nil
}

// unwrapURL drops the "Get URL:" wrapping of net/http's errors, which the
// messages say already.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
