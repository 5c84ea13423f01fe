package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// matrix runs every server × workload at every concurrency: the references
// first at each concurrency, then bgfn's workloads, so the ratios compare
// cells taken a few seconds apart.
func (b *bench) matrix(ctx context.Context, inst *bgfnInstance, nodeRef *process, refs map[string]string, workloads []string) error {
	want := []byte(helloBody)
	for _, c := range b.cfg.Concurrency {
		type entry struct {
			server, workload string
			t                target
			pid              int // whose CPU to measure; 0 for none
		}
		var entries []entry
		if u, ok := refs["go"]; ok {
			entries = append(entries, entry{"go", "raw", target{name: "go", url: u, status: 200, want: want}, 0})
		}
		if u, ok := refs["node"]; ok {
			entries = append(entries, entry{"node", "raw", target{name: "node", url: u, status: 200, want: want}, nodeRef.pid()})
		}
		for _, w := range workloads {
			entries = append(entries, entry{"bgfn", w, target{name: "bgfn " + w, url: inst.fn(w), status: 200, want: want}, inst.proc.pid()})
		}
		for _, e := range entries {
			b.step("%s %s c%d", e.server, e.workload, c)
			if b.cfg.Warmup > 0 {
				if _, err := (load{target: e.t, concurrency: c, duration: b.cfg.Warmup}).run(ctx); err != nil {
					return err
				}
			}
			var before treeUsage
			if e.pid != 0 {
				before, _ = measureTree(e.pid)
			}
			r, err := load{target: e.t, concurrency: c, duration: b.cfg.Duration}.run(ctx)
			if err != nil {
				return err
			}
			if err := inst.check(); err != nil {
				return err
			}
			cell := Cell{
				Server: e.server, Workload: e.workload, Concurrency: c,
				Requests: r.Requests, Errors: r.Errors, Seconds: r.Elapsed.Seconds(),
				RPS: r.RPS(), P50ms: ms(r.P50), P99ms: ms(r.P99), MaxMs: ms(r.Max), FirstError: r.FirstError,
			}
			if e.pid != 0 && r.Requests > 0 {
				if after, err := measureTree(e.pid); err == nil {
					cell.ServerCPUus = float64((after.MainCPU-before.MainCPU)/time.Microsecond) / float64(r.Requests)
					cell.WorkerCPUus = float64((after.ChildCPU-before.ChildCPU)/time.Microsecond) / float64(r.Requests)
				}
			}
			b.res.Cells = append(b.res.Cells, cell)
		}
	}
	// Ratios, once every reference cell is in.
	refRPS := map[string]float64{}
	for _, c := range b.res.Cells {
		if c.Server != "bgfn" {
			refRPS[c.Server+strconv.Itoa(c.Concurrency)] = c.RPS
		}
	}
	for i := range b.res.Cells {
		c := &b.res.Cells[i]
		if c.Server != "bgfn" {
			continue
		}
		if n := refRPS["node"+strconv.Itoa(c.Concurrency)]; n > 0 {
			c.VsNode = c.RPS / n
		}
		if n := refRPS["go"+strconv.Itoa(c.Concurrency)]; n > 0 {
			c.VsGo = c.RPS / n
		}
	}
	for _, c := range b.res.Cells {
		name := fmt.Sprintf("%s %s c%d", c.Server, c.Workload, c.Concurrency)
		if c.Server != "bgfn" {
			name = fmt.Sprintf("%s c%d", c.Server, c.Concurrency)
		}
		b.res.add(groupMatrix, name+" req/s", c.RPS, "req/s", "higher", "")
		b.res.add(groupMatrix, name+" p50", c.P50ms, "ms", "lower", "")
		b.res.add(groupMatrix, name+" p99", c.P99ms, "ms", "lower", "")
		b.res.add(groupMatrix, name+" errors", float64(c.Errors), "count", "lower", "")
		if c.VsNode > 0 {
			b.res.add(groupMatrix, name+" req/s ÷ node", c.VsNode, "x", "higher", "")
		}
		if c.Errors > 0 {
			b.res.finding("errors under load: %s: %d of %d requests failed (first: %s)", name, c.Errors, c.Requests, c.FirstError)
		}
	}
	return nil
}

// memoryGrowth sends RSSRequests to hello at concurrency 10 and compares
// the tree's memory before and after. The matrix ran first, so every pool
// is already at its full size: growth over the run is memory that stays.
func (b *bench) memoryGrowth(ctx context.Context, inst *bgfnInstance, idle *treeUsage) error {
	const g = groupMemory
	n := b.cfg.RSSRequests
	name := fmt.Sprintf("RSS after %s requests", count(n))
	if n <= 0 {
		b.res.na(g, "RSS after N requests", "skipped (-rss-requests 0)")
		return nil
	}
	if idle == nil {
		b.res.na(g, name, "no /proc")
		return nil
	}
	before, err := measureTree(inst.proc.pid())
	if err != nil {
		b.res.na(g, name, err.Error())
		return nil
	}
	b.step("%d requests to hello at c10", n)
	r, err := load{target: target{name: "hello", url: inst.fn("hello"), status: 200, want: []byte(helloBody)}, concurrency: 10, count: n}.run(ctx)
	if err != nil {
		return err
	}
	if err := inst.check(); err != nil {
		return err
	}
	after, err := measureTree(inst.proc.pid())
	if err != nil {
		b.res.na(g, name, err.Error())
		return nil
	}
	pct := func(a, b int) float64 { return (float64(a)/float64(b) - 1) * 100 }
	b.res.add(g, name, mb(after.RSSKB), "MB", "lower", fmt.Sprintf("%d processes; bgfn alone %.1f MB", after.Procs, mb(after.MainRSSKB)))
	b.res.add(g, "RSS growth vs idle", pct(after.RSSKB, idle.RSSKB), "%", "lower",
		fmt.Sprintf("%.1f → %.1f MB, %d → %d processes (pools grow under load)", mb(idle.RSSKB), mb(after.RSSKB), idle.Procs, after.Procs))
	b.res.add(g, "RSS growth over the run", pct(after.RSSKB, before.RSSKB), "%", "lower",
		fmt.Sprintf("%.1f → %.1f MB, %d → %d processes (pools already full: a leak shows here)", mb(before.RSSKB), mb(after.RSSKB), before.Procs, after.Procs))
	b.res.add(g, "bgfn process growth over the run", pct(after.MainRSSKB, before.MainRSSKB), "%", "lower",
		fmt.Sprintf("%.1f → %.1f MB", mb(before.MainRSSKB), mb(after.MainRSSKB)))
	b.res.add(g, "hello c10 over the run", r.RPS(), "req/s", "higher",
		fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, %d errors", ms(r.P50), ms(r.P99), r.Errors))
	if r.Errors > 0 {
		b.res.finding("errors during the %d-request run: %d (first: %s)", n, r.Errors, r.FirstError)
	}
	if after.Procs == before.Procs && pct(after.RSSKB, before.RSSKB) > 10 {
		b.res.finding("memory grew %.0f%% over %d requests with the same %d processes (%.1f → %.1f MB)",
			pct(after.RSSKB, before.RSSKB), n, after.Procs, mb(before.RSSKB), mb(after.RSSKB))
	}
	return nil
}

// background POSTs to work-background, checks every answer is 202, then
// waits for bgfn to log the end of every invocation.
func (b *bench) background(ctx context.Context, inst *bgfnInstance) error {
	const g = groupBackground
	n, c := b.cfg.BackgroundRequests, b.cfg.BackgroundConcurrency
	if n <= 0 {
		b.res.na(g, "background accept rate", "skipped (-bg-requests 0)")
		return nil
	}
	logs := &logScanner{path: inst.log}
	logs.scan(func(string) {}) // start from the end
	b.step("%d POSTs to work-background at c%d", n, c)
	start := time.Now()
	r, err := load{target: target{
		name: "work-background", url: inst.fn("work-background"), method: "POST",
		body: []byte(`{"job":"bench"}`), status: 202,
	}, concurrency: c, count: n}.run(ctx)
	if err != nil {
		return err
	}
	if err := inst.check(); err != nil {
		return err
	}
	label := fmt.Sprintf("%s POSTs at c%d", count(n), c)
	b.res.add(g, "background accept rate", r.RPS(), "req/s", "higher", label)
	b.res.add(g, "background accept p50", ms(r.P50), "ms", "lower", label)
	b.res.add(g, "background accept p99", ms(r.P99), "ms", "lower", label)
	b.res.add(g, "background not 202", float64(r.Errors), "count", "lower", fmt.Sprintf("of %d; all must be 202", r.Requests))
	if r.Errors > 0 {
		b.res.finding("background: %d of %d POSTs were not answered 202 (first: %s)", r.Errors, r.Requests, r.FirstError)
	}
	if u, err := measureTree(inst.proc.pid()); err == nil {
		b.res.add(g, "RSS with the backlog queued", mb(u.RSSKB), "MB", "lower",
			fmt.Sprintf("right after the last 202; %d processes, bgfn alone %.1f MB", u.Procs, mb(u.MainRSSKB)))
	}

	// Each invocation ends with one "✔ succeeded" or "✖ failed" line.
	var ok, failed int
	var firstFail string
	deadline := time.Now().Add(3 * time.Minute)
	for ok+failed < r.Requests-r.Errors {
		logs.scan(func(l string) {
			if !strings.HasPrefix(l, "work-background#") {
				return
			}
			switch {
			case strings.Contains(l, "✔ succeeded"):
				ok++
			case strings.Contains(l, "✖ failed"):
				failed++
				if firstFail == "" {
					firstFail = l
				}
			}
		})
		if err := inst.check(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			b.res.finding("background: only %d of %d invocations ended within 3 minutes of the first POST", ok+failed, r.Requests-r.Errors)
			break
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	drain := time.Since(start)
	b.res.add(g, "background all finished", drain.Seconds(), "s", "lower",
		fmt.Sprintf("first POST → last invocation logged; %.0f invocations/s", float64(ok+failed)/drain.Seconds()))
	b.res.add(g, "background failed", float64(failed), "count", "lower", "invocations logged as failed")
	if failed > 0 {
		b.res.finding("background: %d invocations failed (first: %s)", failed, firstFail)
	}
	return nil
}

// requestLine matches bgfn's line per request: "name#id  GET /path 200 1.2ms".
var requestLine = regexp.MustCompile(`^(\S+)#\S+\s+[A-Z]+ \S+ (\d{3}) `)

// scanLog counts what bgfn logged per function: answers by status class
// and errors, and reports any failures of the measured functions.
func (b *bench) scanLog(path string, workloads []string) {
	type tally struct{ ok, bad, errs int }
	per := map[string]*tally{}
	get := func(name string) *tally {
		if per[name] == nil {
			per[name] = &tally{}
		}
		return per[name]
	}
	var other []string
	s := &logScanner{path: path}
	err := s.scan(func(l string) {
		if m := requestLine.FindStringSubmatch(l); m != nil {
			if m[2][0] == '2' {
				get(m[1]).ok++
			} else {
				get(m[1]).bad++
			}
			return
		}
		name, _, _ := strings.Cut(l, "#")
		switch {
		case strings.Contains(l, "has returned an error"):
			get(name).errs++
		case strings.Contains(l, "panic") || strings.Contains(l, "fatal error"):
			other = append(other, l)
		}
	})
	if err != nil {
		b.res.finding("could not read bgfn's log: %v", err)
		return
	}
	names := make([]string, 0, len(per))
	for n := range per {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		t := per[n]
		parts = append(parts, fmt.Sprintf("%s %d ok/%d not", n, t.ok, t.bad))
		if slices.Contains(workloads, n) && (t.bad > 0 || t.errs > 0) {
			b.res.finding("bgfn logged %d non-2xx answers and %d function errors for %s", t.bad, t.errs, n)
		}
	}
	b.res.add(groupShutdown, "request lines in bgfn's log", float64(total(per, func(t *tally) int { return t.ok + t.bad })), "lines", "",
		strings.Join(parts, ", "))
	for _, l := range other[:min(len(other), 3)] {
		b.res.finding("bgfn's log: %s", snippet([]byte(l)))
	}
}

func total[T any](m map[string]T, f func(T) int) int {
	n := 0
	for _, v := range m {
		n += f(v)
	}
	return n
}

// count prints 100000 as 100k.
func count(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
