//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// Commands for streamed responses (issue 15): timing each line of a
// streamed body, closing the connection half way, and sampling bgfn's
// memory while a large body streams through it.

// cmdStreamGet sends GET URLPATH and reads the body a line at a time as it
// arrives, until the end or until N lines (with -close: then it closes the
// connection, as a client that goes away). It sets $FIRST_MS to when the
// first line arrived, $LAST_MS to when the Nth did, $STATUS, and writes the
// body to $WORK/body and the headers to $WORK/headers (with
// "Transfer-Encoding: chunked" when the answer was chunked). Each line's
// arrival time is logged.
func cmdStreamGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || len(args) == 3 && args[2] != "-close" {
		ts.Fatalf("usage: streamget URLPATH N [-close]")
	}
	target := requestURL(ts, args[0])
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		ts.Fatalf("streamget: invalid line count %q", args[1])
	}
	closeEarly := len(args) == 3
	c := newClient(ts, 1)
	defer c.CloseIdleConnections()
	loadMu.Lock()
	defer loadMu.Unlock()
	start := time.Now()
	resp, err := c.Get(target)
	if err != nil {
		ts.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	head := time.Since(start)
	br := bufio.NewReader(resp.Body)
	var body bytes.Buffer
	var times []time.Duration
	for len(times) < n {
		line, err := br.ReadString('\n')
		body.WriteString(line)
		if line != "" {
			times = append(times, time.Since(start))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				ts.Fatalf("GET %s: read body: %v", target, err)
			}
			break
		}
	}
	if !closeEarly {
		rest, err := io.ReadAll(br)
		ts.Check(err)
		body.Write(rest)
	}
	total := time.Since(start)
	h := formatHeaders(resp)
	if len(resp.TransferEncoding) > 0 {
		h = append(h, "Transfer-Encoding: "+strings.Join(resp.TransferEncoding, ", ")+"\n"...)
	}
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "headers"), h, 0o644))
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "body"), body.Bytes(), 0o644))
	ts.Setenv("STATUS", strconv.Itoa(resp.StatusCode))
	if len(times) < n {
		ts.Fatalf("GET %s: %d lines, want %d; body:\n%s", target, len(times), n, body.String())
	}
	var b strings.Builder
	for i, d := range times {
		fmt.Fprintf(&b, " %d:%dms", i+1, d.Milliseconds())
	}
	ts.Logf("GET %s: head %dms, lines at%s, total %dms", shortTarget(target), head.Milliseconds(), b.String(), total.Milliseconds())
	ts.Setenv("FIRST_MS", strconv.FormatInt(times[0].Milliseconds(), 10))
	ts.Setenv("LAST_MS", strconv.FormatInt(times[n-1].Milliseconds(), 10))
}

// cmdStreamRSS sends GET URLPATH to the dev NAME and reads the body to the
// end while sampling the VmRSS of that bgfn process (not its Node
// workers) every 5 ms; it fails when the body is not BYTES long or the
// RSS grew by MAXMB MiB or more over what it was before the request. It
// sets $RSS_GROWTH_KB and logs the figures.
func cmdStreamRSS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: streamrss NAME URLPATH BYTES MAXMB")
	}
	d := state(ts).devs[args[0]]
	if d == nil {
		ts.Fatalf("streamrss: no dev named %s", args[0])
	}
	want, err1 := strconv.ParseInt(args[2], 10, 64)
	maxMB, err2 := strconv.ParseFloat(args[3], 64)
	if err1 != nil || err2 != nil {
		ts.Fatalf("streamrss: BYTES and MAXMB must be numbers")
	}
	pid := d.cmd.Process.Pid
	base, ok := vmRSS(pid)
	if !ok {
		ts.Fatalf("streamrss: no /proc/%d/status", pid)
	}
	var mu sync.Mutex
	peak := base
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if kb, ok := vmRSS(pid); ok {
				mu.Lock()
				peak = max(peak, kb)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	c := newClient(ts, 1)
	defer c.CloseIdleConnections()
	loadMu.Lock()
	start := time.Now()
	resp, err := c.Get(requestURL(ts, args[1]))
	var n int64
	var first time.Duration
	if err == nil {
		buf := make([]byte, 64<<10)
		for {
			m, rerr := resp.Body.Read(buf)
			if m > 0 && n == 0 {
				first = time.Since(start)
			}
			n += int64(m)
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					err = rerr
				}
				break
			}
		}
		resp.Body.Close()
	}
	total := time.Since(start)
	loadMu.Unlock()
	close(stop)
	<-sampled
	if err != nil {
		ts.Fatalf("GET %s: %v", args[1], err)
	}
	growth := peak - base
	ts.Logf("GET %s: %d bytes, first byte %dms, total %dms; bgfn VmRSS %d kB before, peak %d kB, growth %d kB", args[1], n, first.Milliseconds(), total.Milliseconds(), base, peak, growth)
	ts.Setenv("RSS_GROWTH_KB", strconv.FormatInt(growth, 10))
	if n != want {
		ts.Fatalf("GET %s: %d bytes, want %d", args[1], n, want)
	}
	if float64(growth) >= maxMB*1024 {
		ts.Fatalf("bgfn's VmRSS grew by %d kB while it streamed %d bytes, want under %g MiB", growth, n, maxMB)
	}
}

// vmRSS reads a process's resident set size in kB.
func vmRSS(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// cmdAtLeast asserts that the number in $VAR is at least MIN (durations
// that must have passed, such as deferred work's).
func cmdAtLeast(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: atleast MIN VAR")
	}
	limit, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		ts.Fatalf("atleast: invalid minimum %q", args[0])
	}
	got, err := strconv.ParseFloat(ts.Getenv(args[1]), 64)
	if err != nil {
		ts.Fatalf("atleast: $%s is %q, not a number", args[1], ts.Getenv(args[1]))
	}
	if got < limit {
		ts.Fatalf("$%s is %g, want at least %g", args[1], got, limit)
	}
}

// cmdShortID sets $VAR to the short form of invocation id ID, the one
// log prefixes show (name#short).
func cmdShortID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: shortid VAR ID")
	}
	ts.Setenv(args[0], records.ShortID(args[1]))
}

// cmdBelow asserts that the number in $VAR (a float, such as a record's
// durationMs) is under MAX, stretched by BGFN_TIMING_SCALE as
// elapsed-under stretches its limits.
func cmdBelow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: below MAX VAR")
	}
	limit, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		ts.Fatalf("below: invalid maximum %q", args[0])
	}
	if f, err := strconv.ParseFloat(os.Getenv("BGFN_TIMING_SCALE"), 64); err == nil && f > 0 {
		limit *= f
	}
	got, err := strconv.ParseFloat(ts.Getenv(args[1]), 64)
	if err != nil {
		ts.Fatalf("below: $%s is %q, not a number", args[1], ts.Getenv(args[1]))
	}
	if got >= limit {
		ts.Fatalf("$%s is %g, want under %g", args[1], got, limit)
	}
}
