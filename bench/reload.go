package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reloadPoll is how often a reload measurement asks for the new body.
const reloadPoll = 2 * time.Millisecond

// reloadCases are the functions whose reload latency is measured, one per
// kind: a v1 JavaScript, a TypeScript and a v2 function.
var reloadCases = []struct{ fn, file string }{
	{"hello", "hello.js"},
	{"hello-ts", "hello-ts.ts"},
	{"hello-v2", "hello-v2.mjs"},
}

// jsWorld is what each edit of a JavaScript or TypeScript hello replaces
// with hello: '<marker>'; the rest of the file stays as it is.
var jsWorld = []byte("hello: 'world'")

// Names of the reload figures.
const (
	figGoReload      = "reload hello-go: edit → new body"
	figGoBuildFresh  = "go build, fresh edit"
	figGoBuildNFresh = "go build with Netlify's flags, fresh edit"
	figGoBuildAfter  = "go build with Netlify's flags, right after reload"
	figGoOverBuild   = "go reload − go build"
	figGoOverNBuild  = "go reload − go build with Netlify's flags"
	figLoadRequests  = "reload under load: requests"
	figLoadLatency   = "reload under load: edit → new body"
	figLoadNot2xx    = "reload under load: non-2xx"
	figLoadTransport = "reload under load: transport errors"
	figLoadBodies    = "reload under load: bodies seen"
)

func reloadFigure(file string) string { return "reload " + file + ": edit → new body" }

// reloadFigures are the names of every reload figure, for "skipped".
func reloadFigures() []string {
	var names []string
	for _, c := range reloadCases {
		names = append(names, reloadFigure(c.file))
	}
	return append(names, figGoReload, figGoBuildFresh, figGoBuildNFresh, figGoBuildAfter, figGoOverBuild, figGoOverNBuild,
		figLoadRequests, figLoadNot2xx, figLoadTransport, figLoadBodies, figLoadLatency)
}

// reloadedLine matches bgfn's line for a rebuilt function:
// "⬥ Reloaded function hello in 12.3ms (changed: functions/hello.js)".
var reloadedLine = regexp.MustCompile(`Reloaded function (\S+) in (\S+)`)

// markerBody matches a hello body carrying an edit's marker.
var markerBody = regexp.MustCompile(`^\{"hello":"bench(\d{5})"\}$`)

// reloader edits functions under a running bgfn dev and times how long
// the new code takes to answer.
type reloader struct {
	b      *bench
	inst   *bgfnInstance
	client *http.Client
	logs   *logScanner
	seq    int // markers handed out
}

// marker returns a body marker no earlier edit of the run used. Every
// marker has the same length, so none contains another.
func (r *reloader) marker() string {
	r.seq++
	return fmt.Sprintf("bench%05d", r.seq)
}

// original returns a function's source as bench/site has it (the running
// site's copy holds the last edit's marker).
func (r *reloader) original(file string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(r.b.template, "functions", file))
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(src, jsWorld) {
		return nil, fmt.Errorf("bench/site/functions/%s has no %s to edit", file, jsWorld)
	}
	return src, nil
}

// reloads measures the reload latency of a JS, a TS and a v2 function,
// the rebuild latency of the Go function, and a load run on hello while
// hello.js is edited. It fails only when the run cannot go on (bgfn
// exited, Ctrl-C); anything else makes n/a figures.
func (b *bench) reloads(ctx context.Context, inst *bgfnInstance, goFn bool) error {
	r := &reloader{b: b, inst: inst, client: newClient(1), logs: &logScanner{path: inst.log}}
	defer r.client.CloseIdleConnections()
	if err := r.latencies(ctx); err != nil {
		return err
	}
	if err := r.goLatency(ctx, goFn); err != nil {
		return err
	}
	return r.underLoad(ctx)
}

// editResult is one edit: write → first answer with the new body, and
// what bgfn logged about it.
type editResult struct {
	took     time.Duration // from just before the write to the first new body
	build    time.Duration // bgfn's own build time, from its Reloaded line
	logged   bool          // the Reloaded line was seen
	not2xx   int           // non-2xx answers while polling
	firstBad string
}

// edit writes content to path (the whole file, as an editor saves it) and
// polls fn every reloadPoll until its body holds marker, limit at most.
// With viaLog it first polls bgfn's log, every reloadPoll too, until bgfn
// logs the reload, and asks for the new body only then: for a build of a
// second or more, so that a request every 2 ms does not compete with the
// build for the CPU. bgfn swaps the new pool in before it logs the line,
// so this costs the figure a few ms at most. Then edit waits, briefly,
// for bgfn to log the reload and for its process tree to settle, so the
// next edit starts on a quiet bgfn.
func (r *reloader) edit(ctx context.Context, fn, path string, content []byte, marker string, limit time.Duration, viaLog bool) (editResult, error) {
	var e editResult
	url := r.inst.fn(fn)
	want := []byte(`"` + marker + `"`)
	scanReloaded := func() error {
		return r.logs.scan(func(l string) {
			if m := reloadedLine.FindStringSubmatch(l); m != nil && m[1] == fn && !e.logged {
				e.logged = true
				e.build, _ = time.ParseDuration(m[2])
			}
		})
	}
	if err := r.logs.scan(func(string) {}); err != nil { // from the end of the log
		return e, err
	}
	start := time.Now()
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return e, err
	}
	deadline := start.Add(limit)
	last := "no answer"
	for viaLog && !e.logged {
		if err := scanReloaded(); err != nil {
			return e, err
		}
		if e.logged {
			break
		}
		if err := r.inst.check(); err != nil {
			return e, err
		}
		if time.Now().After(deadline) {
			return e, fmt.Errorf("bgfn logged no reload of %s within %s of the edit", fn, limit)
		}
		if err := sleepCtx(ctx, reloadPoll); err != nil {
			return e, err
		}
	}
	for {
		status, body, err := getWith(ctx, r.client, url)
		switch {
		case err != nil:
			last = err.Error()
		case status < 200 || status > 299:
			e.not2xx++
			last = fmt.Sprintf("status %d: %s", status, firstLine(body))
			if e.firstBad == "" {
				e.firstBad = last
			}
		case bytes.Contains(body, want):
			e.took = time.Since(start)
		default:
			last = fmt.Sprintf("status %d: %s", status, firstLine(body))
		}
		if e.took > 0 {
			break
		}
		if ctx.Err() != nil {
			return e, ctx.Err()
		}
		if err := r.inst.check(); err != nil {
			return e, err
		}
		if time.Now().After(deadline) {
			return e, fmt.Errorf("%s did not answer the new body within %s of the edit (last: %s)", fn, limit, last)
		}
		if err := sleepCtx(ctx, reloadPoll); err != nil {
			return e, err
		}
	}

	// bgfn logs the reload right after the swap: wait for the line, 2 s at
	// most, for its build time.
	logDeadline := time.Now().Add(2 * time.Second)
	for !e.logged && time.Now().Before(logDeadline) {
		if err := scanReloaded(); err != nil {
			return e, err
		}
		if !e.logged {
			if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
				return e, err
			}
		}
	}
	return e, r.quiet(ctx)
}

// quiet waits until bgfn's process count has not changed for 100 ms, 1 s
// at most: the old pool's workers have exited and the spare Node process
// has been replaced, so the next edit does not compete with them.
func (r *reloader) quiet(ctx context.Context) error {
	deadline := time.Now().Add(time.Second)
	last, same := -1, 0
	for same < 5 && time.Now().Before(deadline) {
		procs, err := descendants(r.inst.proc.pid())
		if err != nil {
			return nil // no /proc: nothing to wait for
		}
		if len(procs) == last {
			same++
		} else {
			last, same = len(procs), 0
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// summary describes a series of edits: median, spread, bgfn's build times
// and anything wrong seen while polling. It raises a finding for non-2xx
// answers.
func (r *reloader) summary(what, how string, edits []editResult) (durations []time.Duration, detail string) {
	var builds []time.Duration
	not2xx, unlogged := 0, 0
	firstBad := ""
	for _, e := range edits {
		durations = append(durations, e.took)
		if e.logged {
			builds = append(builds, e.build)
		} else {
			unlogged++
		}
		not2xx += e.not2xx
		if firstBad == "" {
			firstBad = e.firstBad
		}
	}
	detail = fmt.Sprintf("median of %d%s; %s", len(durations), spread(durations), how)
	if len(builds) > 0 {
		detail += fmt.Sprintf("; bgfn's build %s ms", fmtMs(median(builds)))
	}
	if unlogged > 0 {
		detail += fmt.Sprintf("; %d reloads not logged within 2 s", unlogged)
	}
	if not2xx > 0 {
		detail += fmt.Sprintf("; %d non-2xx while polling", not2xx)
		r.b.res.finding("reload: %d non-2xx answers while polling for the new body after %d edits of %s (first: %s)", not2xx, len(edits), what, firstBad)
	}
	return durations, detail
}

// latencies edits each reload case ReloadEdits times, one edit after the
// other, and records write → first new body.
func (r *reloader) latencies(ctx context.Context) error {
	b := r.b
	n := b.cfg.ReloadEdits
	for _, c := range reloadCases {
		name := reloadFigure(c.file)
		if n <= 0 {
			b.res.na(groupReload, name, "skipped (-reload-edits 0)")
			continue
		}
		path := filepath.Join(r.inst.site, "functions", c.file)
		orig, err := r.original(c.file)
		if err != nil {
			b.res.na(groupReload, name, err.Error())
			continue
		}
		b.step("reload %s: %d edits", c.file, n)
		var edits []editResult
		var failed error
		for i := range n {
			m := r.marker()
			e, err := r.edit(ctx, c.fn, path, bytes.Replace(orig, jsWorld, []byte("hello: '"+m+"'"), 1), m, 10*time.Second, false)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err := r.inst.check(); err != nil {
					return err
				}
				failed = fmt.Errorf("edit %d of %d: %w", i+1, n, err)
				break
			}
			edits = append(edits, e)
		}
		if failed != nil {
			b.res.na(groupReload, name, failed.Error())
			b.res.finding("reload of %s: %v", c.file, failed)
			continue
		}
		ds, detail := r.summary(c.file, "GET every "+fmtMs(reloadPoll)+" ms", edits)
		b.res.addMedian(groupReload, name, ds, detail)
	}
	return nil
}

// goLatency edits hello-go/main.go GoReloadEdits times and records write
// → first new body, then times `go build -o /dev/null .` twice after each
// reload: in hello-go itself, as it is then (bgfn's build has just cached
// the compiled package, so this is mostly the link), and in a copy of it
// with an edit bgfn never built (main compiled and linked, dependencies
// cached): the work a reload cannot avoid, which the reload is compared
// with.
func (r *reloader) goLatency(ctx context.Context, goFn bool) error {
	b := r.b
	n := b.cfg.GoReloadEdits
	names := []string{figGoReload, figGoBuildFresh, figGoBuildNFresh, figGoBuildAfter, figGoOverBuild, figGoOverNBuild}
	skip := ""
	switch {
	case n <= 0:
		skip = "skipped (-go-reload-edits 0)"
	case !b.cfg.GoFunction:
		skip = "skipped (no hello-go)"
	case !goFn:
		skip = "hello-go does not answer (see go function)"
	}
	if skip != "" {
		for _, name := range names {
			b.res.na(groupReload, name, skip)
		}
		return nil
	}
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := r.inst.check(); err != nil {
			return err
		}
		for _, name := range names {
			b.res.na(groupReload, name, err.Error())
		}
		b.res.finding("go reload: %v", err)
		return nil
	}
	dir := filepath.Join(r.inst.site, "functions", "hello-go")
	scratch := filepath.Join(b.tmp, "hello-go-fresh")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return fail(err)
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(dir, f), filepath.Join(scratch, f)); err != nil {
			return fail(err)
		}
	}
	marked := func(m string) []byte {
		return []byte(strings.Replace(goFunction, helloBody, `{"hello":"`+m+`"}`, 1))
	}
	b.step("reload hello-go: %d edits", n)
	var edits []editResult
	var after, fresh, nfresh []time.Duration
	for i := range n {
		m := r.marker()
		e, err := r.edit(ctx, "hello-go", filepath.Join(dir, "main.go"), marked(m), m, 2*time.Minute, true)
		if err != nil {
			return fail(fmt.Errorf("edit %d of %d: %w", i+1, n, err))
		}
		edits = append(edits, e)
		d, err := goBuild(ctx, dir, true)
		if err != nil {
			return fail(err)
		}
		after = append(after, d)
		for _, netlify := range []bool{false, true} {
			if err := os.WriteFile(filepath.Join(scratch, "main.go"), marked(fmt.Sprintf("%s-fresh-%v", m, netlify)), 0o644); err != nil {
				return fail(err)
			}
			if d, err = goBuild(ctx, scratch, netlify); err != nil {
				return fail(err)
			}
			if netlify {
				nfresh = append(nfresh, d)
			} else {
				fresh = append(fresh, d)
			}
		}
	}
	ds, detail := r.summary("hello-go/main.go", "GET every "+fmtMs(reloadPoll)+" ms once bgfn's log (polled as often) shows the reload", edits)
	b.res.addMedian(groupReload, figGoReload, ds, detail)
	b.res.addMedian(groupReload, figGoBuildFresh, fresh, fmt.Sprintf("median of %d%s; go build -o /dev/null . in a copy of hello-go with an edit bgfn never built: the build a reload must do", len(fresh), spread(fresh)))
	b.res.addMedian(groupReload, figGoBuildNFresh, nfresh, fmt.Sprintf("median of %d%s; the same with %s, as Netlify's build and bgfn's do", len(nfresh), spread(nfresh), netlifyGoFlags))
	b.res.addMedian(groupReload, figGoBuildAfter, after, fmt.Sprintf("median of %d%s; in hello-go right after each reload: bgfn's build cached the compile, so mostly the link", len(after), spread(after)))
	over := median(ds) - median(fresh)
	b.res.add(groupReload, figGoOverBuild, ms(over), "ms", "lower",
		"go reload median − plain fresh-edit go build median (its target: TARGETS); bgfn builds with Netlify's flags, so this is below zero when those link faster")
	b.res.add(groupReload, figGoOverNBuild, ms(median(ds)-median(nfresh)), "ms", "lower",
		fmt.Sprintf("go reload median − fresh-edit build with the same flags: what bgfn adds to the build; − the right-after build: %s ms", fmtMs(median(ds)-median(after))))
	return nil
}

// netlifyGoFlags are the flags of Netlify's Go build, which bgfn uses too.
const netlifyGoFlags = `-ldflags "-s -w" -tags lambda.norpc and CGO_ENABLED=0`

// goBuild times `go build -o /dev/null .` in dir; netlify adds the flags
// and the environment of Netlify's build (netlifyGoFlags).
func goBuild(ctx context.Context, dir string, netlify bool) (time.Duration, error) {
	argv := []string{"go", "build", "-o", os.DevNull}
	if netlify {
		argv = append(argv, "-ldflags", "-s -w", "-tags", "lambda.norpc")
	}
	p := newProcess(ctx, "go build", append(argv, ".")...)
	p.cmd.Dir = dir
	if netlify {
		p.cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	var out bytes.Buffer
	p.cmd.Stdout, p.cmd.Stderr = &out, &out
	start := time.Now()
	if err := p.start(); err != nil {
		return 0, err
	}
	<-p.done
	took := time.Since(start)
	if p.err != nil {
		return 0, fmt.Errorf("%s in %s: %v: %s", strings.Join(argv, " "), dir, p.err, firstLine(out.Bytes()))
	}
	return took, nil
}

// underLoad loads hello at c10 for ReloadLoad while hello.js is edited
// ReloadLoadEdits times, evenly over the first 80% of the run (so the last
// edit has time to show), and counts what went wrong and which edits'
// bodies were served.
func (r *reloader) underLoad(ctx context.Context) error {
	b := r.b
	d, n := b.cfg.ReloadLoad, b.cfg.ReloadLoadEdits
	names := []string{figLoadRequests, figLoadNot2xx, figLoadTransport, figLoadBodies, figLoadLatency}
	na := func(reason string) {
		for _, name := range names {
			b.res.na(groupReload, name, reason)
		}
	}
	if d <= 0 || n <= 0 {
		na("skipped (-reload-load 0 or -reload-load-edits 0)")
		return nil
	}
	path := filepath.Join(r.inst.site, "functions", "hello.js")
	orig, err := r.original("hello.js")
	if err != nil {
		na(err.Error())
		return nil
	}
	const c = 10
	markers := make([]string, n)
	for i := range markers {
		markers[i] = r.marker()
	}
	first := r.seq - n + 1 // the first marker's number

	// Per marker number, when an answer first had it; per worker, the
	// newest marker it got, to catch an older body served after a newer
	// one.
	var (
		mu        sync.Mutex
		seen      = map[int]time.Time{}
		newest    = make([]int, c)
		older     int
		olderText string
		other     int
		otherText string
	)
	observe := func(w int, body []byte) {
		body = bytes.TrimSpace(body)
		m := markerBody.FindSubmatch(body)
		mu.Lock()
		defer mu.Unlock()
		if m == nil {
			if !bytes.Equal(body, []byte(helloBody)) {
				other++
				if otherText == "" {
					otherText = snippet(body)
				}
			}
			return
		}
		k, _ := strconv.Atoi(string(m[1]))
		if _, ok := seen[k]; !ok {
			seen[k] = time.Now()
		}
		if k < newest[w] {
			older++
			if olderText == "" {
				olderText = fmt.Sprintf("bench%05d after bench%05d", k, newest[w])
			}
		}
		newest[w] = max(newest[w], k)
	}

	if err := r.logs.scan(func(string) {}); err != nil {
		na(err.Error())
		return nil
	}
	gap := d * 8 / 10 / time.Duration(n)
	b.step("hello at c%d for %s, hello.js edited %d times (every %s)", c, d, n, gap.Round(time.Millisecond))
	editCtx, stopEdits := context.WithCancel(ctx)
	defer stopEdits()
	type editsDone struct {
		wrote   int
		at      []time.Time   // when each write started
		slowest time.Duration // the longest write: open (truncating) to close
		err     error
	}
	done := make(chan editsDone, 1)
	start := time.Now()
	go func() {
		var res editsDone
		defer func() { done <- res }()
		for i, m := range markers {
			if sleepCtx(editCtx, time.Until(start.Add(gap/2+gap*time.Duration(i)))) != nil {
				return
			}
			t0 := time.Now()
			res.at = append(res.at, t0)
			if res.err = os.WriteFile(path, bytes.Replace(orig, jsWorld, []byte("hello: '"+m+"'"), 1), 0o644); res.err != nil {
				return
			}
			res.slowest = max(res.slowest, time.Since(t0))
			res.wrote++
		}
	}()
	res, err := load{target: target{name: "hello (reloading)", url: r.inst.fn("hello"), observe: observe}, concurrency: c, duration: d}.run(ctx)
	stopEdits()
	ed := <-done
	if err != nil {
		return err
	}
	if err := r.inst.check(); err != nil {
		return err
	}
	b.reloadRequests = res.Requests
	if ed.err != nil {
		na("edit hello.js: " + ed.err.Error())
		return nil
	}
	// Count the reloads bgfn logged, giving the last edit 2 s to show up
	// (bgfn may also have merged edits: then fewer lines are all there is).
	reloads, failed := 0, 0
	countLog := func() {
		r.logs.scan(func(l string) {
			if m := reloadedLine.FindStringSubmatch(l); m != nil && m[1] == "hello" {
				reloads++
			} else if strings.Contains(l, "Failed to build function hello (") {
				failed++
			}
		})
	}
	logDeadline := time.Now().Add(2 * time.Second)
	for countLog(); reloads+failed < ed.wrote && time.Now().Before(logDeadline); countLog() {
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	// Edit → first answer with its body, for the edits that were served;
	// an edit never served was superseded by the next one before bgfn
	// had swapped it in (bgfn builds the file as it is when it gets to it).
	var lat []time.Duration
	for i, at := range ed.at {
		if t, ok := seen[first+i]; ok {
			lat = append(lat, t.Sub(at))
		}
	}
	distinct := len(lat)

	firstErr := ""
	if res.Errors > 0 {
		firstErr = "; first: " + res.FirstError
	}
	b.res.add(groupReload, figLoadRequests, float64(res.Requests), "count", "",
		fmt.Sprintf("GET hello at c%d for %s, %d edits of hello.js %s apart; %.0f req/s, p50 %.2f ms, p99 %.2f ms, max %.0f ms; bgfn logged %d reloads of hello; slowest write %s ms",
			c, d, ed.wrote, gap.Round(time.Millisecond), res.RPS(), ms(res.P50), ms(res.P99), ms(res.Max), reloads, fmtMs(ed.slowest)))
	b.res.add(groupReload, figLoadNot2xx, float64(res.BadStatus), "count", "lower", "must be 0"+firstErr)
	b.res.add(groupReload, figLoadTransport, float64(res.Transport), "count", "lower", "no answer (connection reset, timeout, body cut short)")
	bodies := fmt.Sprintf("of the %d edits' bodies; %d older after newer for the same worker; %d other bodies", ed.wrote, older, other)
	b.res.add(groupReload, figLoadBodies, float64(distinct), "count", "higher", bodies)
	if len(lat) > 0 {
		b.res.addMedian(groupReload, figLoadLatency, lat, fmt.Sprintf("median of the %d edits served%s; first answer with the edit's body, any load worker", len(lat), spread(lat)))
	} else {
		b.res.na(groupReload, figLoadLatency, "no edit's body was served")
	}

	if res.BadStatus > 0 || res.Transport > 0 {
		b.res.finding("reload under load: %d non-2xx answers and %d transport errors in %d requests to hello while hello.js was edited %d times (first: %s)",
			res.BadStatus, res.Transport, res.Requests, ed.wrote, res.FirstError)
	}
	if failed > 0 {
		b.res.finding("reload under load: bgfn failed to build hello %d times", failed)
	}
	if older > 0 {
		b.res.finding("reload under load: %d answers had an older edit's body than an earlier answer to the same worker (first: %s)", older, olderText)
	}
	if other > 0 {
		b.res.finding("reload under load: %d answers had a body from no edit (first: %s)", other, otherText)
	}
	return nil
}

// getWith fetches url once with client and returns its status and
// trimmed body.
func getWith(ctx context.Context, client *http.Client, url string) (int, []byte, error) {
	if err := checkLocal(url); err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, bytes.TrimSpace(buf.Bytes()), err
}

// fmtMs prints a duration in ms with a precision that suits it.
func fmtMs(d time.Duration) string {
	if v := ms(d); v < 10 && v > -10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms(d), 'f', 0, 64)
}
