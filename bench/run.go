package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// bench holds what the steps of one run share.
type bench struct {
	cfg      Config
	root     string
	tmp      string
	bin      string // the bgfn binary built for this run
	node     string
	template string // the site with bigdep generated, copied per launch
	res      *Results
	progress io.Writer

	// reloadRequests is how many requests the reload load run sent.
	reloadRequests int
}

func (b *bench) step(format string, args ...any) {
	fmt.Fprintf(b.progress, "bench: "+format+"\n", args...)
}

// run builds bgfn, measures it and the reference servers, prints the table
// to stdout and writes the results file. Every process it starts is
// stopped before it returns, whatever happened.
func run(ctx context.Context, cfg Config, stdout io.Writer) (err error) {
	started := time.Now()
	cpuStart := readCPU()
	b := &bench{cfg: cfg, progress: cfg.Progress, res: &Results{}}
	if b.progress == nil {
		b.progress = io.Discard
	}
	if b.root, err = findRoot(cfg.Root); err != nil {
		return err
	}
	if b.node, err = exec.LookPath("node"); err != nil {
		return fmt.Errorf("find node: %w (the bench needs Node.js on PATH)", err)
	}
	if b.tmp, err = os.MkdirTemp("", "bgfn-bench-"); err != nil {
		return err
	}
	defer func() {
		if cfg.Keep {
			b.step("kept %s", b.tmp)
			return
		}
		os.RemoveAll(b.tmp)
	}()

	b.res.Machine = machineInfo(ctx, b.root, b.node)
	b.res.Config = RunInfo{
		CellSeconds:           cfg.Duration.Seconds(),
		WarmupSeconds:         cfg.Warmup.Seconds(),
		Concurrency:           cfg.Concurrency,
		Workloads:             cfg.Workloads,
		Launches:              cfg.Launches,
		RSSRequests:           cfg.RSSRequests,
		BackgroundRequests:    cfg.BackgroundRequests,
		BackgroundConcurrency: cfg.BackgroundConcurrency,
		BigdepBytes:           cmp.Or(cfg.BigdepSize, 5<<20),
		ReloadEdits:           cfg.ReloadEdits,
		GoReloadEdits:         cfg.GoReloadEdits,
		ReloadLoadSeconds:     cfg.ReloadLoad.Seconds(),
		ReloadLoadEdits:       cfg.ReloadLoadEdits,
	}
	if err := b.build(ctx); err != nil {
		return err
	}
	b.template = filepath.Join(b.tmp, "site-template")
	if err := copySite(filepath.Join(b.root, "bench", "site"), b.template); err != nil {
		return fmt.Errorf("copy bench/site: %w", err)
	}
	if err := writeBigdep(b.template, b.res.Config.BigdepBytes); err != nil {
		return err
	}
	if err := b.launches(ctx); err != nil {
		return err
	}
	if err := b.measureDev(ctx); err != nil {
		return err
	}
	if err := b.bursts(ctx); err != nil {
		return err
	}
	if err := b.manyFunctionsSite(ctx); err != nil {
		return err
	}
	if err := b.blobs(ctx); err != nil {
		return err
	}
	b.res.Config.Seconds = time.Since(started).Seconds()
	if cpuStart.ok {
		// Every child has been waited for by now, so the bench's own
		// counters include all of them.
		if end := readCPU(); end.ok {
			other := (end.system - cpuStart.system) - (end.self - cpuStart.self)
			share := float64(other) / (float64(time.Since(started)) * float64(goruntime.NumCPU())) * 100
			b.res.Machine.OtherCPU = max(share, 0)
			if share > 10 {
				b.res.finding("other processes used %.0f%% of the machine's CPU during the run: the figures are noisy, run again on a quiet machine", share)
			}
		}
	}

	addTargets(b.res)
	printTable(stdout, b.res)
	if cfg.Out != "" {
		out := cfg.Out
		if !filepath.IsAbs(out) {
			out = filepath.Join(b.root, out)
		}
		if err := writeResults(out, b.res); err != nil {
			return err
		}
		b.step("wrote %s", out)
	}
	if cfg.Compare != "" {
		old, err := readResults(cfg.Compare)
		if err != nil {
			return err
		}
		printCompare(stdout, old, b.res)
	}
	return nil
}

// findRoot returns dir, or the nearest folder up from the working
// directory whose go.mod is bgfn's.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/bgfn-dev/bgfn\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no bgfn go.mod above %s: run the bench from the repository", wd)
		}
	}
}

// build compiles bgfn from the working tree, as a user would get it.
func (b *bench) build(ctx context.Context) error {
	b.bin = filepath.Join(b.tmp, "bgfn")
	b.step("go build ./cmd/bgfn")
	p := newProcess(ctx, "go build", "go", "build", "-o", b.bin, "./cmd/bgfn")
	p.cmd.Dir = b.root
	var out bytes.Buffer
	p.cmd.Stdout, p.cmd.Stderr = &out, &out
	if err := p.start(); err != nil {
		return err
	}
	<-p.done
	if p.err != nil {
		return fmt.Errorf("build bgfn: %w\n%s", p.err, out.String())
	}
	return nil
}

// launches measures launch → dev.json and launch → first 200 over fresh
// processes on fresh copies of the site, so no build output is reused:
// once with the whole site, once without bigdep, to tell the cost of
// bundling a large dependency from bgfn's own start-up.
func (b *bench) launches(ctx context.Context) error {
	const g = groupLaunch
	if b.cfg.Launches <= 0 {
		b.res.na(g, "launch → first 200", "skipped (-launches 0)")
		return nil
	}
	small := filepath.Join(b.tmp, "site-small")
	if err := copySite(b.template, small); err != nil {
		return fmt.Errorf("copy site: %w", err)
	}
	os.RemoveAll(filepath.Join(small, "node_modules"))
	os.Remove(filepath.Join(small, "functions", "bigdep.js"))
	for j, v := range []struct{ suffix, site string }{{"", b.template}, {", no bigdep", small}} {
		var ready, first []time.Duration
		for i := range b.cfg.Launches {
			b.step("launch %d/%d%s", i+1, b.cfg.Launches, v.suffix)
			rf, d, err := b.launch(ctx, v.site, filepath.Join(b.tmp, fmt.Sprintf("launch-%d-%d", j, i)))
			if err != nil {
				return fmt.Errorf("launch %d%s: %w", i+1, v.suffix, err)
			}
			ready = append(ready, rf)
			first = append(first, d)
		}
		n := strconv.Itoa(len(first))
		b.res.addMedian(g, "launch → dev.json"+v.suffix, ready, "median of "+n+spread(ready))
		b.res.addMedian(g, "launch → first 200"+v.suffix, first, "median of "+n+spread(first)+"; hello polled every 2 ms")
	}
	return nil
}

// launch copies site into dir, starts bgfn on it and returns how long it
// took to write dev.json and to answer hello with 200.
func (b *bench) launch(ctx context.Context, site, dir string) (ready, first time.Duration, err error) {
	defer func() {
		if !b.cfg.Keep {
			os.RemoveAll(dir)
		}
	}()
	fresh := filepath.Join(dir, "site")
	if err := copySite(site, fresh); err != nil {
		return 0, 0, fmt.Errorf("copy site: %w", err)
	}
	inst, err := startBgfn(ctx, b.bin, fresh, filepath.Join(dir, "bgfn.log"))
	if err != nil {
		return 0, 0, err
	}
	first, err = waitFor(ctx, inst.fn("hello"), 200, inst.started, pollEvery, startTimeout)
	inst.proc.stop()
	if err != nil {
		return 0, 0, fmt.Errorf("%w\nbgfn log:\n%s", err, tail(inst.log, 15))
	}
	return inst.ready, first, nil
}

// measureDev runs everything that needs a long-lived bgfn dev: idle
// memory, the matrix, memory growth, background load, the feature probes
// and the reload measurements.
func (b *bench) measureDev(ctx context.Context) error {
	site := filepath.Join(b.tmp, "site")
	if err := copySite(b.template, site); err != nil {
		return fmt.Errorf("copy site: %w", err)
	}
	if b.cfg.GoFunction {
		if err := writeGoFunction(site); err != nil {
			return err
		}
	}
	b.step("start bgfn dev")
	inst, err := startBgfn(ctx, b.bin, site, filepath.Join(b.tmp, "bgfn.log"))
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			inst.proc.stop()
		}
	}()
	if _, err := waitFor(ctx, inst.fn("hello"), 200, time.Now(), 10*time.Millisecond, startTimeout); err != nil {
		return fmt.Errorf("%w\nbgfn log:\n%s", err, tail(inst.log, 15))
	}
	idle := b.idleMemory(ctx, inst)

	b.step("start reference servers")
	refs := map[string]string{}
	var nodeRef *process
	if b.cfg.Refs {
		logf, err := os.Create(filepath.Join(b.tmp, "node-ref.log"))
		if err != nil {
			return err
		}
		defer logf.Close()
		var nodeURL string
		nodeRef, nodeURL, err = startNodeRef(ctx, b.node, b.tmp, logf)
		if err != nil {
			return err
		}
		defer nodeRef.stop()
		goURL, stopGo, err := startGoRef()
		if err != nil {
			return err
		}
		defer stopGo()
		refs["node"], refs["go"] = nodeURL, goURL
	}

	workloads := slices.Clone(b.cfg.Workloads)
	goFn := false
	if !b.cfg.GoFunction {
		b.res.na(groupFeatures, "go function", "skipped")
	} else if goFn = b.probeGo(ctx, inst); goFn && slices.Contains(workloads, "hello") {
		workloads = append(workloads, "hello-go")
	}
	b.res.Config.Workloads = workloads
	if err := b.matrix(ctx, inst, nodeRef, refs, workloads); err != nil {
		return err
	}
	if err := b.memoryGrowth(ctx, inst, idle); err != nil {
		return err
	}
	if err := b.background(ctx, inst); err != nil {
		return err
	}
	if b.cfg.Probes {
		b.probeInvoke(ctx)
		if err := b.reloads(ctx, inst, goFn); err != nil {
			return err
		}
	} else {
		b.res.na(groupFeatures, "standalone invoke", "skipped")
		for _, name := range reloadFigures() {
			b.res.na(groupReload, name, "skipped")
		}
	}

	b.step("stop bgfn dev")
	orphans, took := inst.proc.stop()
	stopped = true
	b.res.add(groupShutdown, "SIGTERM → bgfn exited", ms(took), "ms", "lower", "idle, after the run")
	b.res.add(groupShutdown, "workers left behind", float64(orphans), "procs", "lower", "alive 1 s after bgfn exited (killed by the bench)")
	if orphans > 0 {
		b.res.finding("%d worker process(es) outlived bgfn dev after SIGTERM; the bench killed them", orphans)
	}
	if took > 3*time.Second {
		b.res.finding("bgfn dev took %s to exit after SIGTERM while idle", took.Round(time.Millisecond))
	}
	b.scanLog(inst.log, workloads)
	b.diskUse(site)
	return nil
}

// diskUse records what bgfn left in the site's .netlify folder over the
// run (bundles, binaries, journals), per request served.
func (b *bench) diskUse(site string) {
	var total int64
	var biggest string
	var biggestSize int64
	filepath.WalkDir(filepath.Join(site, ".netlify"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
			if info.Size() > biggestSize {
				biggest, biggestSize = p, info.Size()
			}
		}
		return nil
	})
	requests := 0
	for _, c := range b.res.Cells {
		if c.Server == "bgfn" {
			requests += c.Requests
		}
	}
	requests += b.cfg.RSSRequests + b.cfg.BackgroundRequests + b.reloadRequests
	rel, _ := filepath.Rel(site, biggest)
	b.res.add(groupShutdown, "site .netlify after the run", float64(total)/(1<<20), "MB", "lower",
		fmt.Sprintf("%.0f bytes per measured request; largest file %s (%.1f MB)", float64(total)/float64(max(requests, 1)), rel, float64(biggestSize)/(1<<20)))
	if total > 100<<20 {
		b.res.finding("bgfn wrote %.0f MB under the site's .netlify during the run (largest: %s, %.0f MB): it grows with every request",
			float64(total)/(1<<20), rel, float64(biggestSize)/(1<<20))
	}
}

// idleMemory waits until bgfn's process tree stops changing (the warm
// workers have started) and records its memory.
func (b *bench) idleMemory(ctx context.Context, inst *bgfnInstance) *treeUsage {
	const g = groupMemory
	u, err := settle(ctx, inst.proc.pid())
	if err != nil {
		b.res.na(g, "idle RSS, bgfn + workers", "could not read /proc: "+err.Error())
		return nil
	}
	b.res.add(g, "idle RSS, bgfn + workers", mb(u.RSSKB), "MB", "lower",
		fmt.Sprintf("%d processes after start-up; bgfn alone %.1f MB", u.Procs, mb(u.MainRSSKB)))
	return &u
}

// settle polls the process tree until its process count has not changed
// for a second (10 s at most) and returns the last measurement.
func settle(ctx context.Context, pid int) (treeUsage, error) {
	deadline := time.Now().Add(10 * time.Second)
	var last treeUsage
	same := 0
	for {
		u, err := measureTree(pid)
		if err != nil {
			return u, err
		}
		if u.Procs == last.Procs {
			same++
		} else {
			same = 0
		}
		last = u
		if same >= 10 || time.Now().After(deadline) {
			return u, nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return u, err
		}
	}
}

// probeGo reports whether bgfn serves Go functions: hello-go must answer
// the hello JSON.
func (b *bench) probeGo(ctx context.Context, inst *bgfnInstance) bool {
	status, body, err := get(ctx, inst.fn("hello-go"))
	switch {
	case err != nil:
		b.res.na(groupFeatures, "go function", "request failed: "+err.Error())
	case status == 200 && string(body) == helloBody:
		b.res.add(groupFeatures, "go function", 1, "ok", "", "hello-go answers; added to the matrix")
		return true
	default:
		b.res.na(groupFeatures, "go function", fmt.Sprintf("hello-go answers %d: %s", status, firstLine(body)))
	}
	return false
}

// probeInvoke measures `bgfn invoke hello` on a fresh site with no dev
// server, when bgfn has the command.
func (b *bench) probeInvoke(ctx context.Context) {
	const name = "standalone invoke"
	site := filepath.Join(b.tmp, "site-invoke")
	if err := copySite(b.template, site); err != nil {
		b.res.na(groupFeatures, name, "copy site: "+err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	p := newProcess(ctx, "bgfn invoke", b.bin, "invoke", "hello", "--dir", site, "--color", "never")
	var out bytes.Buffer
	p.cmd.Stdout, p.cmd.Stderr = &out, &out
	start := time.Now()
	if err := p.start(); err != nil {
		b.res.na(groupFeatures, name, err.Error())
		return
	}
	<-p.done
	took := time.Since(start)
	p.stop()
	text := out.String()
	switch {
	case strings.Contains(text, "unknown command"):
		b.res.na(groupFeatures, name, "no invoke command")
	case p.err != nil:
		b.res.na(groupFeatures, name, fmt.Sprintf("bgfn invoke hello failed (%v): %s", p.err, firstLine([]byte(text))))
	case !strings.Contains(text, "world"):
		b.res.na(groupFeatures, name, "bgfn invoke hello printed no hello JSON: "+firstLine([]byte(text)))
	default:
		b.res.add(groupFeatures, name, ms(took), "ms", "lower", "bgfn invoke hello on a fresh site, build included")
	}
}

// machineInfo gathers what the figures depend on; anything it cannot find
// it leaves empty.
func machineInfo(ctx context.Context, root, node string) Machine {
	m := Machine{
		LoadStart: loadAvg(),
		Cores:     goruntime.NumCPU(),
		OS:        goruntime.GOOS + "/" + goruntime.GOARCH,
		Go:        goruntime.Version(),
		Date:      time.Now().UTC().Format(time.RFC3339),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	m.Node = strings.TrimSpace(command(ctx, "", node, "--version"))
	m.Commit = strings.TrimSpace(command(ctx, root, "git", "rev-parse", "--short", "HEAD"))
	m.Dirty = strings.TrimSpace(command(ctx, root, "git", "status", "--porcelain", "--untracked-files=no")) != ""
	return m
}

// loadAvg is the 1-minute load average (0 where there is no /proc).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// cpuCounters are the machine's busy CPU time and the bench's own,
// children included once waited for.
type cpuCounters struct {
	system, self time.Duration
	ok           bool
}

func readCPU() cpuCounters {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuCounters{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuCounters{}
	}
	var c cpuCounters
	// user nice system idle iowait irq softirq steal: all but idle and
	// iowait are busy.
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		c.system += time.Duration(n) * clockTick
	}
	self, err := readStat(os.Getpid())
	if err != nil {
		return cpuCounters{}
	}
	c.self = time.Duration(self.utime+self.stime+self.cutime+self.cstime) * clockTick
	c.ok = true
	return c
}

// command runs a short command and returns its output ("" on failure).
func command(ctx context.Context, dir, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return snippet([]byte(s))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func spread(ds []time.Duration) string {
	if len(ds) < 2 {
		return ""
	}
	return fmt.Sprintf(" (min %.0f, max %.0f)", ms(slices.Min(ds)), ms(slices.Max(ds)))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mb(kb int) float64 { return float64(kb) / 1024 }
