package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The instance model's figures (issue 13): bursts of waiting background
// invocations and sleeping sync requests on a bgfn dev of their own, and the
// memory of a generated site of many functions.

// bursts measures how fast bursts of invocations that mostly wait are all
// done: every concurrent invocation needs an instance of its own. They run
// on a bgfn dev of their own, started for them, so that the matrix's
// instances (hundreds of warm threads and Go processes, within their idle
// timeout) neither fill the instance budget nor count in the tree's RSS.
func (b *bench) bursts(ctx context.Context) error {
	const g = groupInstances
	if b.cfg.InstanceBursts <= 0 {
		b.res.na(g, "50 waiting background invocations: all done", "skipped (-instance-bursts 0)")
		return nil
	}
	site := filepath.Join(b.tmp, "site-bursts")
	if err := copySite(b.template, site); err != nil {
		return fmt.Errorf("copy site: %w", err)
	}
	b.step("start bgfn dev for the instance bursts")
	inst, err := startBgfn(ctx, b.bin, site, filepath.Join(b.tmp, "bgfn-bursts.log"))
	if err != nil {
		return err
	}
	defer inst.proc.stop()
	if _, err := waitFor(ctx, inst.fn("hello"), 200, time.Now(), 10*time.Millisecond, startTimeout); err != nil {
		return fmt.Errorf("%w\nbgfn log:\n%s", err, tail(inst.log, 15))
	}
	for _, n := range []int{50, b.cfg.InstanceBursts} {
		took, peak, failed, err := b.backgroundBurst(ctx, inst, n)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%d waiting background invocations: all done", n)
		detail := fmt.Sprintf("POSTed at c50, each waits 2 s; first POST → last success; %d failed", failed)
		if n == 50 {
			b.res.addTarget(g, name, took.Seconds(), "s", "lower", 3, detail)
			continue
		}
		b.res.addTarget(g, name, took.Seconds(), "s", "lower", 40, detail)
		b.res.addTarget(g, fmt.Sprintf("tree RSS during the %d", n), mb(peak), "MB", "lower", 1024, "the most measured, every 200 ms")
	}
	// 50 sync requests at once to a function that sleeps 300 ms.
	b.step("50 requests at once to sleep-300")
	r, err := load{target: target{name: "sleep-300", url: inst.fn("sleep-300")}, concurrency: 50, count: 50}.run(ctx)
	if err != nil {
		return err
	}
	b.res.addTarget(g, "50 sync requests sleeping 300 ms: all answered", r.Elapsed.Seconds(), "s", "lower", 1,
		fmt.Sprintf("%d not 200; max latency %s", r.Errors, fmtMs(r.Max)))
	return nil
}

// backgroundBurst POSTs n invocations of wait-background at c50 and waits
// until each has logged its end, sampling the tree's RSS meanwhile.
func (b *bench) backgroundBurst(ctx context.Context, inst *bgfnInstance, n int) (took time.Duration, peakKB int, failed int, err error) {
	b.step("%d POSTs to wait-background at c50", n)
	logs := &logScanner{path: inst.log}
	logs.scan(func(string) {})
	stopSampling := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if u, err := measureTree(inst.proc.pid()); err == nil {
				mu.Lock()
				peakKB = max(peakKB, u.RSSKB)
				mu.Unlock()
			}
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	})
	defer func() {
		close(stopSampling)
		wg.Wait()
	}()
	start := time.Now()
	r, err := load{target: target{name: "wait-background", url: inst.fn("wait-background"), method: "POST", body: []byte(`{}`), status: 202}, concurrency: 50, count: n}.run(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	ok := 0
	deadline := time.Now().Add(3 * time.Minute)
	for ok+failed < r.Requests-r.Errors {
		logs.scan(func(l string) {
			if !strings.HasPrefix(l, "wait-background#") {
				return
			}
			switch {
			case strings.Contains(l, "✔ succeeded"):
				ok++
			case strings.Contains(l, "✖ failed"), strings.Contains(l, "✖ timed out"):
				failed++
			}
		})
		if err := inst.check(); err != nil {
			return 0, 0, 0, err
		}
		if time.Now().After(deadline) {
			b.res.finding("wait-background: only %d of %d ended within 3 minutes", ok+failed, n)
			break
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return 0, 0, 0, err
		}
	}
	took = time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	return took, peakKB, failed + r.Errors, nil
}

// manyFunctions is the generated site's size.
const manyFunctions = 40

// manyIdleTimeout is the generated site's --idle-timeout: short, so the
// figure "after the idle timeout" does not take minutes.
const manyIdleTimeout = 3 * time.Second

// manyFunctionsSite measures a generated site of 40 trivial JS functions:
// memory after start-up, after one request to each, and once the idle
// timeout has passed; launch → first 200; and the first request to a
// function that has no instance yet.
func (b *bench) manyFunctionsSite(ctx context.Context) error {
	const g = groupInstances
	if !b.cfg.ManySite {
		b.res.na(g, "40-function site: RSS after start-up", "skipped (-many-site=false)")
		return nil
	}
	site := filepath.Join(b.tmp, "site-many")
	if err := writeManySite(site); err != nil {
		return err
	}
	// Launch → first 200, on fresh copies.
	var firsts []time.Duration
	for i := range 3 {
		b.step("launch %d/3, %d-function site", i+1, manyFunctions)
		_, d, err := b.launch(ctx, site, filepath.Join(b.tmp, fmt.Sprintf("launch-many-%d", i)))
		if err != nil {
			return fmt.Errorf("launch of the %d-function site: %w", manyFunctions, err)
		}
		firsts = append(firsts, d)
	}
	med := median(firsts)
	b.res.addTarget(g, "40-function site: launch → first 200", ms(med), "ms", "lower", 200, "median of 3"+spread(firsts))

	b.step("start bgfn dev on the %d-function site", manyFunctions)
	fresh := filepath.Join(b.tmp, "site-many-dev")
	if err := copySite(site, fresh); err != nil {
		return err
	}
	inst, err := startBgfn(ctx, b.bin, fresh, filepath.Join(b.tmp, "bgfn-many.log"), "--idle-timeout", manyIdleTimeout.String())
	if err != nil {
		return err
	}
	defer inst.proc.stop()
	if _, err := waitFor(ctx, inst.fn("hello"), 200, time.Now(), 10*time.Millisecond, startTimeout); err != nil {
		return err
	}
	// hello has an instance now; wait for it to go, then for the tree to
	// settle: that is the site after start-up.
	if err := waitIdle(ctx, inst, 2*manyIdleTimeout+5*time.Second); err != nil {
		return err
	}
	u, err := settle(ctx, inst.proc.pid())
	if err != nil {
		return err
	}
	b.res.addTarget(g, "40-function site: RSS after start-up", mb(u.RSSKB), "MB", "lower", 150,
		fmt.Sprintf("%d processes; bgfn alone %.1f MB", u.Procs, mb(u.MainRSSKB)))

	// One request to each function: the first request of each meets no
	// instance of its own.
	var colds []time.Duration
	for _, name := range manyNames() {
		t0 := time.Now()
		status, _, err := get(ctx, inst.fn(name))
		if err != nil || status != 200 {
			return fmt.Errorf("%s: %d %v", name, status, err)
		}
		colds = append(colds, time.Since(t0))
	}
	sorted := append([]time.Duration(nil), colds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	b.res.addTarget(g, "first request to a function without an instance", ms(median(colds)), "ms", "lower", 30,
		fmt.Sprintf("median of %d functions; max %s", len(colds), fmtMs(sorted[len(sorted)-1])))
	u, err = measureTree(inst.proc.pid())
	if err != nil {
		return err
	}
	b.res.addTarget(g, "40-function site: RSS after one request to each", mb(u.RSSKB), "MB", "lower", 400,
		fmt.Sprintf("%d processes", u.Procs))

	b.step("wait for the idle timeout (%s)", manyIdleTimeout)
	if err := waitIdle(ctx, inst, 2*manyIdleTimeout+5*time.Second); err != nil {
		return err
	}
	u, err = measureTree(inst.proc.pid())
	if err != nil {
		return err
	}
	b.res.addTarget(g, "40-function site: RSS after the idle timeout", mb(u.RSSKB), "MB", "lower", 150,
		fmt.Sprintf("--idle-timeout %s; %d processes", manyIdleTimeout, u.Procs))
	return nil
}

// waitIdle polls /.bgfn/api/stats until no instance is left.
func waitIdle(ctx context.Context, inst *bgfnInstance, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, body, err := get(ctx, inst.url+"/.bgfn/api/stats")
		var st struct {
			Instances struct {
				Live int `json:"live"`
			} `json:"instances"`
		}
		if err == nil && json.Unmarshal(body, &st) == nil && st.Instances.Live == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instances still live %s after the idle timeout (stats: %s)", limit, firstLine(body))
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// manyNames are the generated site's functions: hello (which launch
// polls) and fn01, fn02, ...
func manyNames() []string {
	names := []string{"hello"}
	for i := 1; i < manyFunctions; i++ {
		names = append(names, fmt.Sprintf("fn%02d", i))
	}
	return names
}

// writeManySite writes a site of manyFunctions trivial JS functions.
func writeManySite(dir string) error {
	fns := filepath.Join(dir, "functions")
	if err := os.MkdirAll(fns, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "netlify.toml"), []byte("[build]\n  functions = \"functions\"\n"), 0o644); err != nil {
		return err
	}
	src := "exports.handler = async () => ({ statusCode: 200, body: '" + helloBody + "' })\n"
	for _, name := range manyNames() {
		if err := os.WriteFile(filepath.Join(fns, name+".js"), []byte(src), 0o644); err != nil {
			return err
		}
	}
	return nil
}
