package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds every request of the load generator, so a stuck
// server makes errors, not a stuck bench.
const requestTimeout = 10 * time.Second

// target is one URL the load generator hits and what a good answer is.
type target struct {
	name   string
	url    string
	method string // GET when empty
	body   []byte // request body (POST)
	status int    // the status a good answer has; 0 means any 2xx
	want   []byte // the body a good answer has; nil means any
	// observe, when set, sees the body of every answer with a good status,
	// with the index of the worker that got it. Workers call it
	// concurrently.
	observe func(worker int, body []byte)
}

// load is one run of the load generator: concurrency workers, each sending
// requests one after another until the deadline passes (duration) or the
// shared count is used up (count), whichever is set.
type load struct {
	target      target
	concurrency int
	duration    time.Duration
	count       int
}

// loadResult is what a load run measured. Every request counts in the
// latencies, good or not; Errors counts the bad ones.
type loadResult struct {
	Requests   int
	Errors     int
	Elapsed    time.Duration
	P50, P99   time.Duration
	Max        time.Duration
	FirstError string

	// Errors by kind: no answer (connection, timeout, body cut short), a
	// status that is not the good one, a body that is not the good one.
	Transport, BadStatus, BadBody int
}

// RPS is completed requests (good or bad) per second.
func (r loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// newClient returns a keep-alive client for c concurrent workers: one idle
// connection kept per worker, so no request pays for a new connection after
// the first.
func newClient(c int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        c,
		MaxIdleConnsPerHost: c,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkLocal refuses any target off 127.0.0.1: the bench loads only what it
// started itself.
func checkLocal(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if h := u.Hostname(); h != "127.0.0.1" {
		return fmt.Errorf("refusing to load %s: only 127.0.0.1 targets", raw)
	}
	return nil
}

// run sends the load. It stops early, with what it has, when ctx ends;
// requests in flight at the deadline finish (bounded by requestTimeout) so
// the deadline itself makes no errors.
func (l load) run(ctx context.Context) (loadResult, error) {
	if err := checkLocal(l.target.url); err != nil {
		return loadResult{}, err
	}
	if l.concurrency < 1 || (l.duration <= 0) == (l.count <= 0) {
		return loadResult{}, fmt.Errorf("load %s: need concurrency and exactly one of duration or count", l.target.name)
	}
	client := newClient(l.concurrency)
	defer client.CloseIdleConnections()

	method := l.target.method
	if method == "" {
		method = http.MethodGet
	}
	// Preallocate for the expected number of requests per worker, so the
	// append in the loop does not allocate while measuring.
	capHint := 4096
	if l.count > 0 {
		capHint = l.count/l.concurrency + 1
	} else {
		capHint = max(capHint, int(l.duration/time.Millisecond)*4)
	}

	var (
		next     atomic.Int64
		errs     atomic.Int64
		kinds    [3]atomic.Int64 // transport, status, body
		firstErr atomic.Value
		wg       sync.WaitGroup
		lats     = make([][]time.Duration, l.concurrency)
	)
	fail := func(kind int, msg string) {
		errs.Add(1)
		kinds[kind].Add(1)
		firstErr.CompareAndSwap(nil, msg)
	}
	start := time.Now()
	deadline := start.Add(l.duration)
	for w := range l.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, capHint)
			var buf bytes.Buffer
			for ctx.Err() == nil {
				if l.count > 0 {
					if next.Add(1) > int64(l.count) {
						break
					}
				} else if !time.Now().Before(deadline) {
					break
				}
				t0 := time.Now()
				status, err := l.do(ctx, client, method, &buf)
				lat = append(lat, time.Since(t0))
				switch {
				case err != nil:
					fail(0, err.Error())
				case !l.goodStatus(status):
					fail(1, fmt.Sprintf("status %d: %s", status, snippet(buf.Bytes())))
				case l.target.want != nil && !bytes.Equal(bytes.TrimSpace(buf.Bytes()), l.target.want):
					fail(2, fmt.Sprintf("status %d, unexpected body: %s", status, snippet(buf.Bytes())))
				}
				if err == nil && l.target.observe != nil && l.goodStatus(status) {
					l.target.observe(w, buf.Bytes())
				}
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	res := loadResult{Elapsed: time.Since(start), Errors: int(errs.Load()),
		Transport: int(kinds[0].Load()), BadStatus: int(kinds[1].Load()), BadBody: int(kinds[2].Load())}
	if v := firstErr.Load(); v != nil {
		res.FirstError = v.(string)
	}
	all := slices.Concat(lats...)
	res.Requests = len(all)
	slices.Sort(all)
	res.P50, res.P99 = percentile(all, 0.50), percentile(all, 0.99)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	return res, ctx.Err()
}

// do sends one request and reads the whole answer into buf (reading it all
// is what lets the connection be reused).
func (l load) do(ctx context.Context, client *http.Client, method string, buf *bytes.Buffer) (int, error) {
	var body *bytes.Reader
	if l.target.body != nil {
		body = bytes.NewReader(l.target.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, l.target.url, body)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, err = http.NewRequestWithContext(ctx, method, l.target.url, nil)
	}
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return resp.StatusCode, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, nil
}

func (l load) goodStatus(code int) bool {
	if l.target.status != 0 {
		return code == l.target.status
	}
	return code >= 200 && code < 300
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// snippet is the start of a body, on one line, for an error message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
