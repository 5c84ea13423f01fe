// Package dev wires configuration, discovery, builds, worker pools and the
// HTTP server into `bgfn dev`.
package dev

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/routes"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/runtime/nodeboot"
	"github.com/bgfn-dev/bgfn/internal/server"
	"github.com/bgfn-dev/bgfn/internal/watch"
)

// DefaultPort is the port bgfn dev listens on, as `netlify functions:serve`.
const DefaultPort = 9999

// Options configure `bgfn dev`.
type Options struct {
	Config config.Options
	// Host is the listen address (default 127.0.0.1).
	Host string
	// Port is the listen port; -1 means "from netlify.toml, else 9999", 0
	// picks a free port.
	Port int
	// Timeout is the synchronous function limit.
	Timeout time.Duration
	// BackgroundTimeout is the background function limit.
	BackgroundTimeout time.Duration
	// MaxWorkers caps the workers of each function.
	MaxWorkers int
	// NoLimits lifts the request body limits.
	NoLimits bool
	// ShutdownTimeout bounds the wait for running invocations at exit.
	ShutdownTimeout time.Duration
	// InitTimeout bounds a worker's start, Lambda's init phase (10 s).
	InitTimeout time.Duration
	// Retries is how many times a failed background invocation is retried.
	Retries int
	// RetryScale multiplies Netlify's retry delays (1m, 2m): 0.01 makes
	// them 0.6s and 1.2s, 0 retries at once.
	RetryScale float64
	// Records is how many finished invocation records stay in memory.
	Records int
	// Only limits the instance to one function (bgfn invoke --standalone).
	Only string
	// Standalone runs without banner, state file or request lines: the
	// instance serves one `bgfn invoke`.
	Standalone bool
	// Cron fires scheduled functions on their schedule; CronNow also fires
	// each once at start-up.
	Cron    bool
	CronNow bool
	// ScheduledTimeout is the scheduled function limit (Netlify: 30 s).
	ScheduledTimeout time.Duration
	// NoWatch turns hot reload off; Poll polls instead of using inotify.
	NoWatch bool
	Poll    bool
	// Hurry is cancelled by a second Ctrl-C: stop waiting, kill now.
	Hurry context.Context
	// Sink receives every line bgfn and the functions print.
	Sink *logs.Sink
}

// DefaultMaxWorkers is the default per-function worker cap: enough to
// overlap I/O-bound handlers, few enough for a laptop's memory.
func DefaultMaxWorkers() int {
	return min(max(4, 2*goruntime.NumCPU()), 16)
}

// ListenError is returned when the server cannot listen on its address.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return "listen on " + e.Addr + ": " + e.Err.Error() }
func (e *ListenError) Unwrap() error { return e.Err }

// InUse reports whether the address was taken.
func (e *ListenError) InUse() bool { return errors.Is(e.Err, syscall.EADDRINUSE) }

// State is what `bgfn dev` writes to .netlify/bgfn/dev.json so `bgfn invoke`
// and tests can find it.
type State struct {
	URL       string    `json:"url"`
	PID       int       `json:"pid"`
	Site      string    `json:"site"`
	StartedAt time.Time `json:"startedAt"`
}

// StatePath is where the state file of a site lives.
func StatePath(baseDir string) string {
	return filepath.Join(baseDir, ".netlify", "bgfn", "dev.json")
}

// registry is the live set of functions, swapped on reload, with the
// route table of their custom paths.
type registry struct {
	mu    sync.RWMutex
	fns   map[string]*server.Function
	table *routes.Table
}

func (r *registry) Lookup(name string) (*server.Function, bool) {
	r.mu.RLock()
	fn, ok := r.fns[name]
	r.mu.RUnlock()
	return fn, ok
}

func (r *registry) Route(method, path string) (*server.Function, string, map[string]string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.table == nil {
		return nil, "", nil, false
	}
	name, pattern, params, ok := r.table.Lookup(method, path)
	if !ok {
		return nil, "", nil, false
	}
	fn, ok := r.fns[name]
	return fn, pattern, params, ok
}

// set replaces (fn != nil) or removes a function and rebuilds the route
// table, in name order as functions are discovered.
func (r *registry) set(name string, fn *server.Function) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn == nil {
		delete(r.fns, name)
	} else {
		r.fns[name] = fn
	}
	names := make([]string, 0, len(r.fns))
	for n, f := range r.fns {
		if len(f.Paths) > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	entries := make([]routes.Entry, 0, len(names))
	for _, n := range names {
		f := r.fns[n]
		entries = append(entries, routes.Entry{Function: n, Paths: f.Paths, Excluded: f.ExcludedPaths, Methods: f.Methods})
	}
	r.table, _ = routes.NewTable(entries)
}

// site is a loaded, built site ready to serve.
type site struct {
	cfg       *config.Config
	warnings  []string
	functions []discover.Function
	outDir    string
	bootstrap string
	node      string
	spares    *runtime.NodeSpares
	builder   *build.JSBuilder
	gobuilder *build.GoBuilder
	arts      map[string]build.Artifact
	pools     map[string]*runtime.Pool
	// initTimeout bounds every worker's start.
	initTimeout time.Duration
}

// Instance is a running bgfn dev: built functions, worker pools and the
// HTTP server, listening.
type Instance struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:9999.
	URL string

	opts      Options
	site      *site
	reg       *registry
	store     *records.Store
	srv       *server.Server
	httpSrv   *http.Server
	ln        net.Listener
	statePath string
	served    chan error

	// mu serialises reloads with each other and with shutdown.
	mu         sync.Mutex
	env        []string
	w          *watch.Watcher
	maxWorkers int
}

// Run runs `bgfn dev` until ctx is cancelled.
func Run(ctx context.Context, opts Options) error {
	inst, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	bgctx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	if !opts.NoWatch {
		go inst.watchLoop(bgctx, opts.Poll)
	}
	if opts.Cron || opts.CronNow {
		go inst.cronLoop(bgctx, opts.CronNow)
	}
	select {
	case <-ctx.Done():
	case err := <-inst.served:
		inst.Shutdown()
		return err
	}
	return inst.Shutdown()
}

// Start loads the site, builds its functions, listens and serves in the
// background. The caller must call Shutdown.
func Start(ctx context.Context, opts Options) (*Instance, error) {
	start := time.Now()
	sink := opts.Sink
	st := sink.Styles()
	s, err := load(opts)
	if err != nil {
		return nil, err
	}
	s.initTimeout = opts.InitTimeout
	if !opts.Standalone {
		for _, w := range s.cfg.Warnings {
			sink.Line(st.Render(st.Warning, "⚠ "+w))
		}
	}
	if opts.Only != "" {
		var keep []discover.Function
		for _, fn := range s.functions {
			if fn.Name == opts.Only {
				keep = append(keep, fn)
			}
		}
		s.functions = keep
	}

	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := opts.Port
	if port < 0 {
		port = s.cfg.Port
		if port == 0 {
			port = DefaultPort
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.builder.Close()
		return nil, &ListenError{Addr: addr, Err: err}
	}
	inst := &Instance{URL: "http://" + ln.Addr().String(), opts: opts, site: s, ln: ln, served: make(chan error, 1)}
	for _, fn := range s.functions {
		// go build takes seconds; what go.mod already tells is said now.
		if fn.Runtime == discover.RuntimeGo {
			dir := filepath.Join(s.cfg.FunctionsDir, filepath.FromSlash(fn.Dir))
			printBuildWarnings(sink, fn.Name, build.GoModuleWarnings(s.cfg.BaseDir, dir))
		}
	}
	later := s.buildAll(sink)
	inst.reg = &registry{fns: make(map[string]*server.Function)}
	maxWorkers := opts.MaxWorkers
	if maxWorkers <= 0 {
		maxWorkers = DefaultMaxWorkers()
	}
	inst.maxWorkers = maxWorkers
	env := s.baseEnv(inst.URL)
	inst.env = env
	s.spares.SetEnv(env)
	pending := make(map[string]chan struct{}, len(later))
	for name := range later {
		pending[name] = make(chan struct{})
	}
	for _, fn := range s.functions {
		sf := serverFunction(fn)
		art := s.arts[fn.Name]
		if ch, ok := pending[fn.Name]; ok {
			sf.Building = ch
		} else if art.Err != nil {
			sf.BuildErr = art.Err
		} else if sf.Invalid == "" && sf.ConfigError == "" {
			pool := runtime.NewPool(s.starter(fn, art, env, sink), maxWorkers)
			s.pools[fn.Name] = pool
			sf.Pool = pool
		}
		inst.reg.set(fn.Name, sf)
	}

	journal := filepath.Join(s.outDir, "invocations.jsonl")
	inst.store, err = records.NewStore(opts.Records, journal)
	if err != nil {
		ln.Close()
		s.builder.Close()
		return nil, err
	}
	srvOpts := server.Options{
		Registry:             inst.reg,
		Sink:                 sink,
		Timeout:              opts.Timeout,
		BackgroundTimeout:    opts.BackgroundTimeout,
		ScheduledTimeout:     opts.ScheduledTimeout,
		SiteID:               s.cfg.Env["SITE_ID"],
		Records:              inst.store,
		Retries:              opts.Retries,
		RetryDelays:          []time.Duration{scale(time.Minute, opts.RetryScale), scale(2*time.Minute, opts.RetryScale)},
		MaxBackgroundRunning: maxWorkers,
		Quiet:                opts.Standalone,
		Info:                 server.Info{Site: s.cfg.SiteDir, PID: os.Getpid()},
	}
	if opts.NoLimits {
		srvOpts.MaxBody = 1 << 40
		srvOpts.MaxBackgroundBody = 1 << 40
	}
	inst.srv = server.New(srvOpts)
	inst.httpSrv = &http.Server{Handler: inst.srv, ReadHeaderTimeout: 30 * time.Second}

	// Warm one worker per function while the banner prints, so the first
	// request does not pay for starting Node; a few at a time, so start-up
	// does not starve the server of the cores.
	if !opts.Standalone {
		go warmAll(ctx, s.functions, s.pools, s.spares)
	} else {
		go warmAll(ctx, s.functions, s.pools, nil)
	}
	if !opts.Standalone {
		s.banner(sink, inst.URL, time.Since(start), opts.Cron)
		inst.statePath = StatePath(s.cfg.BaseDir)
		writeState(inst.statePath, State{URL: inst.URL, PID: os.Getpid(), Site: s.cfg.SiteDir, StartedAt: time.Now()})
	}
	if len(later) > 0 {
		go inst.buildLater(later, pending)
	}
	go func() {
		if err := inst.httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			inst.served <- fmt.Errorf("serve: %w", err)
		}
	}()
	return inst, nil
}

func warmAll(ctx context.Context, fns []discover.Function, pools map[string]*runtime.Pool, spares *runtime.NodeSpares) {
	// Then keep a spare Node process for reloads and pools that grow.
	defer spares.Fill()
	var g errgroup.Group
	g.SetLimit(goruntime.NumCPU())
	for _, fn := range fns {
		if p := pools[fn.Name]; p != nil {
			g.Go(func() error {
				p.WarmWait(ctx, 10*time.Second)
				return nil
			})
		}
	}
	g.Wait()
}

// serverFunction is what the server needs to know of fn.
func serverFunction(fn discover.Function) *server.Function {
	return &server.Function{
		Name: fn.Name, Kind: fn.Kind, Invalid: fn.Invalid,
		Paths: fn.Paths, ExcludedPaths: fn.ExcludedPaths, Methods: fn.Methods,
		Schedule: fn.Schedule, ConfigError: fn.ConfigError,
	}
}

// Functions returns what discovery found (after --only filtering).
func (i *Instance) Functions() []discover.Function { return i.site.functions }

// Shutdown stops taking invocations (503), waits for running ones up to the
// grace period (Options.Hurry cuts it short), then kills what is left and
// records it, and everything queued or waiting for a retry, as interrupted.
func (i *Instance) Shutdown() error {
	if i.statePath != "" {
		os.Remove(i.statePath)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	defer i.site.builder.Close()
	defer i.store.Close()
	return shutdown(i.httpSrv, i.srv, i.site, i.store, i.opts, i.opts.Sink)
}

func scale(d time.Duration, f float64) time.Duration {
	if f < 0 {
		f = 0
	}
	return time.Duration(float64(d) * f)
}

// shutdown stops taking invocations (503), waits for running ones up to the
// grace period (a second Ctrl-C cuts it short), then kills what is left and
// records it, and everything queued or waiting for a retry, as interrupted.
func shutdown(httpSrv *http.Server, srv *server.Server, s *site, store *records.Store, opts Options, sink *logs.Sink) error {
	st := sink.Styles()
	srv.Drain()
	grace := opts.ShutdownTimeout
	if grace <= 0 {
		grace = 10 * time.Second
	}
	parent := opts.Hurry
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, grace)
	defer cancel()
	if running := runningSummary(store); running != "" {
		sink.Line(st.Render(st.Warning, "⬥ shutting down: waiting up to "+grace.String()+" for "+running+" (Ctrl-C again to stop now)"))
	} else if !opts.Standalone {
		sink.Line(st.Render(st.Dim, "⬥ shutting down"))
	}
	waitErr := srv.Wait(ctx)
	if waitErr != nil {
		if running := runningSummary(store); running != "" {
			sink.Line(st.Render(st.Warning, "⬥ stopping "+running))
		}
	}
	// Past the grace period (or at a second Ctrl-C) nothing may hold bgfn
	// up: what still runs, or is still starting, is killed, and everything
	// after has one short budget.
	stopCtx, stopCancel := context.WithTimeout(context.Background(), stopBudget)
	defer stopCancel()
	var wg sync.WaitGroup
	for _, p := range s.pools {
		wg.Go(func() {
			if waitErr != nil {
				p.Kill()
			}
			p.Close(stopCtx)
		})
	}
	srv.Close(stopCtx)
	wg.Wait()
	s.spares.Close()
	if httpSrv.Shutdown(stopCtx) != nil {
		httpSrv.Close()
	}
	return nil
}

// stopBudget bounds shutdown after the grace period: bgfn dev ends within
// --shutdown-timeout plus this, whatever its workers are doing.
const stopBudget = 1500 * time.Millisecond

// runningSummary names the invocations still running, for shutdown lines.
func runningSummary(store *records.Store) string {
	var names []string
	for _, r := range store.Unfinished() {
		snap := r.Snapshot()
		if snap.Status != records.Running {
			continue
		}
		names = append(names, fmt.Sprintf("%s#%s (running %s)", snap.Function, server.ShortID(snap.ID), time.Since(snap.CreatedAt).Round(100*time.Millisecond)))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "1 running invocation: " + names[0]
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return fmt.Sprintf("%d running invocations: %s", len(names), strings.Join(names, ", "))
}

// load reads the configuration, discovers functions and prepares the
// build output folder.
func load(opts Options) (*site, error) {
	cfg, err := config.Load(opts.Config)
	if err != nil {
		return nil, err
	}
	s := &site{cfg: cfg, arts: make(map[string]build.Artifact), pools: make(map[string]*runtime.Pool)}
	fns, warnings, err := discover.Discover(os.DirFS(cfg.FunctionsDir), func(name string) discover.Settings {
		fs := cfg.Functions.For(name)
		return discover.Settings{Background: fs.Background, Schedule: fs.Schedule}
	})
	if err != nil {
		return nil, fmt.Errorf("discover functions in %s: %w", cfg.FunctionsDir, err)
	}
	cfg.Warnings = append(cfg.Warnings, warnings...)
	s.warnings = warnings
	if _, err := os.Stat(cfg.FunctionsDir); err != nil {
		cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("functions directory %s does not exist (from %s): create it, or set [functions] directory in netlify.toml or --functions", relTo(cfg.SiteDir, cfg.FunctionsDir), cfg.FunctionsDirSource))
	}
	s.functions = fns
	s.outDir = filepath.Join(cfg.BaseDir, ".netlify", "bgfn")
	if err := build.EnsureDir(s.outDir); err != nil {
		return nil, fmt.Errorf("create build folder: %w", err)
	}
	s.builder = &build.JSBuilder{SiteDir: cfg.BaseDir, OutDir: filepath.Join(s.outDir, "functions")}
	s.gobuilder = &build.GoBuilder{SiteDir: cfg.BaseDir, OutDir: filepath.Join(s.outDir, "go")}
	needNode := false
	for _, fn := range fns {
		if fn.Runtime == discover.RuntimeJS || fn.Runtime == discover.RuntimeTS {
			needNode = true
		}
	}
	if needNode {
		node, err := exec.LookPath("node")
		if err != nil {
			return nil, &NodeMissingError{}
		}
		s.node = node
		if s.bootstrap, err = writeBootstrap(s.outDir); err != nil {
			return nil, err
		}
		s.spares = &runtime.NodeSpares{Node: node, Bootstrap: s.bootstrap, Dir: cfg.BaseDir, Grace: 2 * time.Second}
	}
	return s, nil
}

// NodeMissingError is returned when JS/TS functions exist and no node is on
// PATH.
type NodeMissingError struct{}

func (*NodeMissingError) Error() string {
	return "node not found on PATH: bgfn runs JS and TS functions with Node.js >= 18; install it (https://nodejs.org) or put it on PATH"
}

// writeBootstrap writes the embedded bootstrap under a name that carries
// its hash, so running workers of an older bgfn are not disturbed.
func writeBootstrap(outDir string) (string, error) {
	sum := sha256.Sum256(nodeboot.Source)
	p := filepath.Join(outDir, "nodeboot", "bootstrap-"+hex.EncodeToString(sum[:6])+".mjs")
	if b, err := os.ReadFile(p); err == nil && string(b) == string(nodeboot.Source) {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("write node bootstrap: %w", err)
	}
	tmp := p + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, nodeboot.Source, 0o644); err != nil {
		return "", fmt.Errorf("write node bootstrap: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("write node bootstrap: %w", err)
	}
	return p, nil
}

// buildAll builds every function in parallel, bounded by the cores.
// buildAll builds the JS and TS functions in parallel, bounded by the
// cores, and returns the Go functions it left for buildLater: go build can
// take seconds, and the other functions need not wait for it.
func (s *site) buildAll(sink *logs.Sink) map[string]<-chan build.Artifact {
	later := make(map[string]<-chan build.Artifact)
	sem := make(chan struct{}, goruntime.NumCPU())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []discover.Function
	for _, fn := range s.functions {
		ch := make(chan build.Artifact, 1)
		later[fn.Name] = ch
		wg.Add(1)
		go func() {
			sem <- struct{}{}
			art := s.buildOne(fn)
			<-sem
			ch <- art
			mu.Lock()
			done = append(done, fn)
			mu.Unlock()
			wg.Done()
		}()
	}
	// Serve what is built within the budget; what takes longer (go build,
	// a bundle with megabytes of dependencies) finishes in the background
	// while its requests wait for it.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(startBudget):
	}
	mu.Lock()
	ready := append([]discover.Function(nil), done...)
	mu.Unlock()
	for _, fn := range ready {
		art := <-later[fn.Name]
		delete(later, fn.Name)
		s.arts[fn.Name] = art
		if art.Err != nil {
			printBuildError(sink, fn.Name, art.Err, 0)
		}
		if fn.Runtime != discover.RuntimeGo {
			printBuildWarnings(sink, fn.Name, art.Warnings)
		}
	}
	return later
}

// startBudget is how long start-up waits for JS and TS builds before it
// serves the ones that are done.
const startBudget = 200 * time.Millisecond

func printBuildError(sink *logs.Sink, name string, e *build.Error, took time.Duration) {
	st := sink.Styles()
	head := "✖ Failed to build function " + name
	if took > 0 {
		head += " (" + fmtBuild(took) + ")"
	}
	lines := []string{st.Render(st.Failure, head+":")}
	for _, l := range strings.Split(e.Detail(), "\n") {
		lines = append(lines, "  "+l)
	}
	sink.Lines(lines...)
}

// printBuildWarnings prints what a build that worked wants the user to
// know, one line each: "⚠ NAME: file:line:col: text".
func printBuildWarnings(sink *logs.Sink, name string, warnings []build.Message) {
	if len(warnings) == 0 {
		return
	}
	st := sink.Styles()
	lines := make([]string, len(warnings))
	for i, w := range warnings {
		lines[i] = st.Render(st.Warning, "⚠ "+name+": "+w.String())
	}
	sink.Lines(lines...)
}

// buildLater finishes the builds start-up did not wait for. Until a
// function's build ends, its requests wait for it rather than fail.
func (i *Instance) buildLater(later map[string]<-chan build.Artifact, pending map[string]chan struct{}) {
	var wg sync.WaitGroup
	for _, fn := range i.site.functions {
		ch, ok := later[fn.Name]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			art := <-ch
			i.mu.Lock()
			defer i.mu.Unlock()
			defer close(pending[fn.Name])
			cur, ok := i.reg.Lookup(fn.Name)
			if !ok || cur.Building == nil {
				// Removed or rebuilt by a reload meanwhile.
				return
			}
			i.site.arts[fn.Name] = art
			sink := i.opts.Sink
			st := sink.Styles()
			if art.Err != nil {
				printBuildError(sink, fn.Name, art.Err, art.Duration)
			} else if !i.opts.Standalone {
				sink.Line(st.Render(st.Success, "⬥ Built function "+fn.Name+" in "+fmtBuild(art.Duration)))
			}
			if fn.Runtime != discover.RuntimeGo {
				// Go warnings come from go.mod and were printed before
				// the build started.
				printBuildWarnings(sink, fn.Name, art.Warnings)
			}
			i.swap(context.Background(), fn, art, i.env, false)
			if i.w != nil {
				i.setWatchLocked(i.w)
			}
		}()
	}
	wg.Wait()
}

func (s *site) buildOne(fn discover.Function) build.Artifact {
	entry := filepath.Join(s.cfg.FunctionsDir, filepath.FromSlash(fn.Entry))
	switch fn.Runtime {
	case discover.RuntimeJS, discover.RuntimeTS:
		fs := s.cfg.Functions.For(fn.Name)
		return s.builder.Build(fn.Name, entry, build.JSOptions{ExternalNodeModules: fs.ExternalNodeModules})
	case discover.RuntimeGo:
		return s.gobuilder.Build(context.Background(), fn.Name, filepath.Dir(entry))
	default:
		return build.Artifact{Err: &build.Error{Function: fn.Name, Messages: []build.Message{{
			File: relTo(s.cfg.BaseDir, entry),
			Text: "bgfn cannot run " + string(fn.Runtime) + " functions",
		}}}}
	}
}

// baseEnv is the environment every worker starts from: the process
// environment, the site's variables, and Netlify's dev variables.
func (s *site) baseEnv(url string) []string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	for k, v := range s.cfg.Env {
		m[k] = v
	}
	m["NETLIFY_DEV"] = "true"
	m["NETLIFY_LOCAL"] = "true"
	m["CONTEXT"] = "dev"
	m["URL"] = url
	m["DEPLOY_URL"] = url
	m["TZ"] = "UTC"
	m["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1024"
	if m["AWS_REGION"] == "" {
		m["AWS_REGION"] = "us-east-1"
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// starter returns how to start workers for one build of fn: Node over pipes
// for JS and TS, the Lambda Runtime API for Go.
func (s *site) starter(fn discover.Function, art build.Artifact, env []string, sink *logs.Sink) runtime.Starter {
	if fn.Runtime == discover.RuntimeGo {
		dir := filepath.Join(s.cfg.FunctionsDir, filepath.FromSlash(fn.Dir))
		e := append(env[:len(env):len(env)], "AWS_LAMBDA_FUNCTION_NAME="+fn.Name, "LAMBDA_TASK_ROOT="+dir)
		name := fn.Name
		return &runtime.LambdaStarter{Config: runtime.LambdaConfig{
			Binary:      art.Entry,
			Name:        fn.Name,
			Dir:         dir,
			Env:         e,
			Grace:       2 * time.Second,
			Region:      s.cfg.Env["AWS_REGION"],
			InitTimeout: s.initTimeout,
			IdleLog: func(_ runtime.Stream, line []byte) {
				sink.FunctionLine(name, "", line)
			},
		}}
	}
	return &runtime.NodeStarter{Config: s.nodeConfig(fn, art, env, sink)}
}

func (s *site) nodeConfig(fn discover.Function, art build.Artifact, env []string, sink *logs.Sink) runtime.NodeConfig {
	taskRoot := filepath.Join(s.cfg.FunctionsDir, filepath.FromSlash(fn.Dir))
	name := fn.Name
	return runtime.NodeConfig{
		Node:        s.node,
		Bootstrap:   s.bootstrap,
		Entry:       art.Entry,
		Name:        fn.Name,
		Dir:         s.cfg.BaseDir,
		Env:         env,
		FuncEnv:     map[string]string{"AWS_LAMBDA_FUNCTION_NAME": fn.Name, "LAMBDA_TASK_ROOT": taskRoot},
		Spares:      s.spares,
		Grace:       2 * time.Second,
		InitTimeout: s.initTimeout,
		IdleLog: func(_ runtime.Stream, line []byte) {
			sink.FunctionLine(name, "", line)
		},
	}
}

func (s *site) banner(sink *logs.Sink, url string, took time.Duration, cron bool) {
	st := sink.Styles()
	width := 0
	for _, fn := range s.functions {
		width = max(width, len(fn.Name))
	}
	sink.SetWidth(width + 7)
	var lines []string
	lines = append(lines, st.Render(st.Bold, "bgfn dev")+" "+st.Render(st.Dim, fmt.Sprintf("· %d functions from %s · ready in %s", len(s.functions), relTo(s.cfg.SiteDir, s.cfg.FunctionsDir), took.Round(time.Millisecond))))
	scheduled := 0
	for _, fn := range s.functions {
		status := ""
		switch {
		case fn.Invalid != "":
			status = st.Render(st.Failure, "  invalid name (answers 400)")
		case fn.ConfigError != "":
			status = st.Render(st.Failure, "  configuration error (answers 500)")
		case s.arts[fn.Name].Err != nil:
			status = st.Render(st.Failure, "  build failed (answers 500)")
		case s.arts[fn.Name].Entry == "":
			status = st.Render(st.Dim, "  building…")
		}
		where := url + "/.netlify/functions/" + fn.Name
		if len(fn.Paths) > 0 {
			where = url + strings.Join(fn.Paths, ", ")
			if len(fn.Methods) > 0 {
				where = strings.Join(fn.Methods, ",") + " " + where
			}
		}
		if fn.Kind == discover.KindScheduled {
			scheduled++
			status += st.Render(st.Dim, "  ⏰ "+fn.Schedule)
		}
		lines = append(lines, fmt.Sprintf("  %s  %-10s %-3s %s%s",
			st.Render(st.Function(fn.Name), fmt.Sprintf("%-*s", width, fn.Name)),
			string(fn.Kind), string(fn.Runtime),
			st.Render(st.URL, where), status))
	}
	if len(s.functions) == 0 {
		lines = append(lines, st.Render(st.Warning, "  no functions found in "+relTo(s.cfg.SiteDir, s.cfg.FunctionsDir)))
	}
	if scheduled > 0 {
		if cron {
			lines = append(lines, st.Render(st.Accent, "⏰ scheduled functions fire on their schedule (UTC)"))
		} else {
			lines = append(lines, st.Render(st.Dim, "⏰ scheduled functions run only when called; run bgfn dev --cron (or BGFN_CRON=1) to fire them on their schedule"))
		}
	}
	lines = append(lines, st.Render(st.Success, "⬥ Server listening on "+url)+st.Render(st.Dim, " (Ctrl-C to stop)"))
	sink.Lines(lines...)
}

func relTo(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

func writeState(path string, st State) {
	b, _ := json.MarshalIndent(st, "", "  ")
	os.MkdirAll(filepath.Dir(path), 0o755)
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, path)
	}
}
