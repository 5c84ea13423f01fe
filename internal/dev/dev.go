package dev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/journal"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/mcp"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/runtime/nodeboot"
	"github.com/bgfn-dev/bgfn/internal/server"
	"github.com/bgfn-dev/bgfn/internal/site"
	"github.com/bgfn-dev/bgfn/internal/version"
	"github.com/bgfn-dev/bgfn/internal/watch"
)

// DefaultPort is the port bgfn dev listens on, as `netlify functions:serve`.
const DefaultPort = 9999

// Options configure `bgfn dev`.
type Options struct {
	Config config.Options
	// Host is the listen address (default 127.0.0.1).
	Host string
	// AllowedHosts are more Host names /.bgfn/ answers to (--allowed-host).
	AllowedHosts []string
	// Port is the listen port; -1 means "from netlify.toml, else 9999", 0
	// picks a free port.
	Port int
	// Timeout is the synchronous function limit.
	Timeout time.Duration
	// BackgroundTimeout is the background function limit.
	BackgroundTimeout time.Duration
	// MaxConcurrency caps the instances of each function, hence its
	// invocations at once; more wait in order.
	MaxConcurrency int
	// MaxInstances caps the instances of all functions together.
	MaxInstances int
	// IdleTimeout stops instances idle for longer (0: never).
	IdleTimeout time.Duration
	// ProcessIsolation names the functions whose instances run as Node
	// processes instead of worker threads ("*" for all).
	ProcessIsolation []string
	// NoLimits lifts the request body limits, the Go response limit and
	// the streamed response limit.
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
	// Resume runs again the background runs that were interrupted: those
	// the last bgfn left unfinished, and those a shutdown stopped.
	Resume bool
	// JournalMaxSize is the size past which the background journal is
	// compacted (0: journal.DefaultMaxSize).
	JournalMaxSize int64
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
	// Geo is the country functions see in context.geo (--geo).
	Geo string
	// NoWatch turns hot reload off; Poll polls instead of using inotify.
	NoWatch bool
	Poll    bool
	// Hurry is cancelled by a second Ctrl-C: stop waiting, kill now.
	Hurry context.Context
	// Printer prints every line bgfn and the functions print.
	Printer *logs.Printer
}

// Defaults of the instance model.
const (
	// DefaultMaxConcurrency is the per-function cap: headroom for I/O-bound
	// work (a background function waiting on an API), as production runs
	// every invocation in an instance of its own.
	DefaultMaxConcurrency = 64
	// DefaultMaxInstances bounds all functions together, about 1 GB of
	// worker threads.
	DefaultMaxInstances = 128
	// DefaultIdleTimeout stops idle instances, as Lambda retires them.
	DefaultIdleTimeout = 5 * time.Minute
)

// ListenError is returned when the server cannot listen on its address.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return "listen on " + e.Addr + ": " + e.Err.Error() }
func (e *ListenError) Unwrap() error { return e.Err }

// InUse reports whether the address was taken.
func (e *ListenError) InUse() bool { return errors.Is(e.Err, syscall.EADDRINUSE) }

// NodeMissingError is returned when JS/TS functions exist and no node is on
// PATH.
type NodeMissingError struct{}

func (*NodeMissingError) Error() string {
	return "node not found on PATH: bgfn runs JS and TS functions with Node.js >= 18; install it (https://nodejs.org) or put it on PATH"
}

// Instance is a running bgfn dev: built functions, worker pools and the
// HTTP server, listening.
type Instance struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:9999.
	URL string
	// Token guards /.bgfn/ when bgfn listens beyond loopback ("" when
	// it does not).
	Token string

	opts           Options
	p              *logs.Printer
	maxConcurrency int
	tools          tools
	blobs          *localBlobs
	reg            *registry
	store          *records.Store
	queue          *background.Queue
	journal        *journal.Journal
	srv            *server.Server
	httpSrv        *http.Server
	ln             net.Listener
	served         chan error
	// life ends at shutdown: builds still running are cancelled.
	life     context.Context
	stopLife context.CancelFunc
	// tasks are the instance's own goroutines: builds that start-up did
	// not wait for, and pools being retired. Shutdown waits for them.
	tasks sync.WaitGroup

	// mu serialises reloads with each other, with late builds and with
	// shutdown; it guards what follows.
	mu   sync.Mutex
	site *site.Site
	arts map[string]build.Artifact
	// bannerShown is set once the banner is out: builds that end later
	// say so on a line of their own.
	bannerShown bool
	pools       map[string]*runtime.Pool
	env         []string
	w           *watch.Watcher

	// rmu guards retiring: pools replaced by a reload that still finish
	// what they were running.
	rmu      sync.Mutex
	retiring map[*runtime.Pool]struct{}

	// recovered are the runs the last bgfn left unfinished, recorded as
	// interrupted at start-up (journal.go).
	recovered []*records.Record

	// prepared are the new pools of a reload under way (hold.go), under mu.
	prepared map[string]prepared
}

// tools are what building and starting functions need.
type tools struct {
	node      string
	bootstrap string
	// hosts run the JS and TS instances as worker threads; nil without
	// node.
	hosts  *runtime.NodeHosts
	budget *runtime.Budget
	js     *build.JSBuilder
	gob    *build.GoBuilder
}

// Run runs `bgfn dev` until ctx is cancelled.
func Run(ctx context.Context, opts Options) error {
	inst, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	if !opts.NoWatch {
		g.Go(func() error { return inst.watchLoop(gctx, opts.Poll) })
	}
	if opts.Cron || opts.CronNow {
		g.Go(func() error { return inst.cronLoop(gctx, opts.CronNow) })
	}
	g.Go(func() error { return inst.releaseLoop(gctx) })
	var serveErr error
	select {
	case <-gctx.Done():
	case serveErr = <-inst.served:
	}
	err = inst.Shutdown()
	if gerr := g.Wait(); gerr != nil && !errors.Is(gerr, context.Canceled) {
		return gerr
	}
	if serveErr != nil {
		return serveErr
	}
	return err
}

// Start loads the site, builds its functions, listens and serves in the
// background. The caller must call Shutdown.
func Start(ctx context.Context, opts Options) (*Instance, error) {
	begin := time.Now()
	s, t, err := load(opts)
	if err != nil {
		return nil, err
	}
	ln, err := listen(opts, s.Config.Port)
	if err != nil {
		t.js.Close()
		return nil, err
	}
	i := &Instance{
		URL: "http://" + ln.Addr().String(), opts: opts, p: opts.Printer, tools: t, ln: ln,
		served: make(chan error, 1), reg: newRegistry(), site: s,
		arts: make(map[string]build.Artifact), pools: make(map[string]*runtime.Pool),
		retiring: make(map[*runtime.Pool]struct{}),
	}
	i.life, i.stopLife = context.WithCancel(context.Background())
	i.Token = tokenFor(opts.Host)
	i.maxConcurrency = opts.MaxConcurrency
	if i.maxConcurrency <= 0 {
		i.maxConcurrency = DefaultMaxConcurrency
	}
	if !opts.Standalone {
		for _, w := range s.Warnings {
			i.p.Warning(w)
		}
	}
	i.goModuleWarnings()
	i.env = s.WorkerEnv(i.URL)
	if t.hosts != nil {
		// Start Node (with its spare threads) while the functions build,
		// so the first request pays only for loading its function;
		// instances start on demand.
		t.hosts.SetEnv(i.env)
		i.tasks.Go(func() { t.hosts.Prestart() })
	}
	i.startBlobs()
	later, hurry := i.buildAll()
	t.budget.Start()
	// Every build is swapped in by its own goroutine under i.mu, which
	// guards arts and pools: register and the banner read and write them
	// under it too (the race detector caught the banner reading arts
	// while a late build wrote it).
	i.mu.Lock()
	gates := i.register(later, hurry)
	i.mu.Unlock()
	// Serve at once: a request waits for its function's build (moved to
	// the front of the queue), not for every build of a large site.
	if err := i.serveHTTP(); err != nil {
		ln.Close()
		t.js.Close()
		return nil, err
	}
	if !opts.Standalone {
		site.WriteState(s.Config.BaseDir, site.State{URL: i.URL, PID: os.Getpid(), Site: s.Config.SiteDir, StartedAt: time.Now(), Token: i.Token})
	}
	awaitStartBuilds(gates)
	if !opts.Standalone {
		i.mu.Lock()
		b := i.banner(time.Since(begin))
		i.bannerShown = true
		i.mu.Unlock()
		i.bannerRuns(&b)
		i.p.Banner(b)
	}
	i.resumeAtStart()
	return i, nil
}

// load reads the site and finds what building and starting it needs.
func load(opts Options) (*site.Site, tools, error) {
	var t tools
	s, err := site.Load(opts.Config)
	if err != nil {
		return nil, t, err
	}
	if opts.Only != "" {
		s.Only(opts.Only)
	}
	out := s.OutDir()
	if err := build.EnsureDir(out); err != nil {
		return nil, t, fmt.Errorf("create build folder: %w", err)
	}
	t.js = &build.JSBuilder{SiteDir: s.Config.BaseDir, OutDir: filepath.Join(out, "functions")}
	t.gob = &build.GoBuilder{SiteDir: s.Config.BaseDir, OutDir: filepath.Join(out, "go")}
	if s.NeedsNode() {
		if t.node, err = exec.LookPath("node"); err != nil {
			return nil, t, &NodeMissingError{}
		}
		if t.bootstrap, err = nodeboot.Write(out); err != nil {
			return nil, t, err
		}
		t.hosts = &runtime.NodeHosts{Node: t.node, Bootstrap: t.bootstrap, Dir: s.Config.BaseDir, Spares: spares(opts), Grace: 2 * time.Second}
	}
	max := opts.MaxInstances
	if max == 0 {
		max = DefaultMaxInstances
	}
	t.budget = &runtime.Budget{Max: max, IdleTimeout: opts.IdleTimeout}
	return s, t, nil
}

func listen(opts Options, tomlPort int) (net.Listener, error) {
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := opts.Port
	if port < 0 {
		port = tomlPort
		if port == 0 {
			port = DefaultPort
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Err: err}
	}
	return ln, nil
}

// serveHTTP makes the records, the background queue, the public server
// and the API, and serves them on the listener.
func (i *Instance) serveHTTP() error {
	opts := i.opts
	var err error
	i.store, err = records.NewStore(opts.Records, filepath.Join(i.site.OutDir(), "invocations.jsonl"))
	if err != nil {
		return err
	}
	jr, recovery, err := i.openJournal()
	if err != nil {
		return err
	}
	i.journal = jr
	maxBody, maxBgBody, maxStream := int64(0), int64(0), int64(0)
	if opts.NoLimits {
		maxBody, maxBgBody, maxStream = 1<<40, 1<<40, 1<<50
	}
	i.queue = background.New(background.Options{
		Lookup:      i.reg.invoker,
		Records:     i.store,
		Printer:     i.p,
		Quiet:       opts.Standalone,
		Timeout:     opts.BackgroundTimeout,
		Retries:     opts.Retries,
		RetryDelays: []time.Duration{scale(time.Minute, opts.RetryScale), scale(2*time.Minute, opts.RetryScale)},
		MaxRunning:  i.maxConcurrency,
		Journal:     jr,
	})
	i.recoverRuns(recovery)
	i.srv = server.New(server.Options{
		Registry:          i.reg,
		Printer:           i.p,
		Background:        i.queue,
		Records:           i.store,
		Timeout:           opts.Timeout,
		ScheduledTimeout:  opts.ScheduledTimeout,
		MaxBody:           maxBody,
		MaxBackgroundBody: maxBgBody,
		MaxStream:         maxStream,
		SiteID:            i.siteID(),
		Blobs:             i.blobsEvent(),
		Quiet:             opts.Standalone,
		Geo:               opts.Geo,
	})
	mux := http.NewServeMux()
	i.httpSrv = newHTTPServer(mux)
	// Issue 17: the runs page and every /.bgfn/ endpoint behind the
	// Host/Origin/token guard (page.go); a browser at / is sent to it.
	mux.Handle("/.bgfn/", i.guard(api.New(api.Options{
		Records:  i.store,
		Replayer: i.srv,
		Control:  i.queue,
		Info:     api.Info{Site: i.site.Config.SiteDir, PID: os.Getpid(), Version: version.Get().Version},
		Done:     i.life.Done(),
		Stats:    func() any { return i.stats() },
		Resume:   i.apiResume,
		// Issue 18: the functions and the configuration (api.go), the
		// Blobs JSON API, and the MCP endpoint, whose tools call this
		// server's own URL.
		Functions: i.apiFunctions,
		Config:    i.apiConfig,
		Blobs:     i.blobsAPI(),
		MCP:       mcp.NewHTTPHandler(mcp.Options{Target: mcp.Remote{URL: i.URL, Token: i.Token}, Version: version.Get().Version}, i.life.Done()),
		Page:      true,
	})))
	mux.Handle("/", i.rootRedirect(i.srv))
	go func() {
		if err := i.httpSrv.Serve(i.ln); !errors.Is(err, http.ErrServerClosed) {
			i.served <- fmt.Errorf("serve: %w", err)
		}
		close(i.served)
	}()
	return nil
}

// spares is how many started worker threads a host keeps ready: one for a
// standalone invoke (it serves one request), two for bgfn dev so a burst
// or a reload does not wait for thread start-up.
func spares(opts Options) int {
	if opts.Standalone && opts.Only != "" {
		return 0
	}
	return 2
}

func scale(d time.Duration, f float64) time.Duration {
	if f < 0 {
		f = 0
	}
	return time.Duration(float64(d) * f)
}

// Shutdown stops taking invocations (503), waits for running ones up to the
// grace period (Options.Hurry cuts it short), then kills what is left and
// records it, and everything queued or waiting for a retry, as interrupted.
// It returns within the grace period plus stopBudget, whatever the workers
// are doing.
func (i *Instance) Shutdown() error {
	if !i.opts.Standalone {
		site.RemoveState(i.site.Config.BaseDir)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.srv.Drain()
	i.queue.Drain()
	grace := i.opts.ShutdownTimeout
	if grace <= 0 {
		grace = 10 * time.Second
	}
	parent := i.opts.Hurry
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, grace)
	defer cancel()
	if running := runningSummary(i.store); running != "" {
		i.p.ShuttingDown(grace, running)
	} else if !i.opts.Standalone {
		i.p.ShuttingDown(grace, "")
	}
	waitErr := errors.Join(i.srv.Wait(ctx), i.queue.Wait(ctx))
	if waitErr != nil {
		if running := runningSummary(i.store); running != "" {
			i.p.Stopping(running)
		}
	}
	// Past the grace period (or at a second Ctrl-C) nothing may hold bgfn
	// up: what still runs, or is still starting, is killed, and everything
	// after has one short budget.
	stopCtx, stopCancel := context.WithTimeout(context.Background(), stopBudget)
	defer stopCancel()
	i.stopLife()
	i.reg.stop()
	var wg sync.WaitGroup
	for _, p := range i.allPools() {
		wg.Go(func() {
			if waitErr != nil {
				p.Kill()
			}
			p.Close(stopCtx)
		})
	}
	i.queue.Close(stopCtx)
	wg.Wait()
	for _, r := range i.store.Unfinished() {
		r.Finish(records.Interrupted)
	}
	jerr := i.journal.Close()
	if i.tools.hosts != nil {
		i.tools.hosts.Close()
	}
	i.tools.budget.Close()
	i.stopBlobs()
	if i.httpSrv.Shutdown(stopCtx) != nil {
		i.httpSrv.Close()
	}
	<-i.served
	waitTasks(&i.tasks, stopCtx)
	i.tools.js.Close()
	return errors.Join(jerr, i.store.Close())
}

// Stats is what runs now, for /.bgfn/api/stats.
type Stats struct {
	// Instances are those of every function: running or idle, and starts
	// waiting for room under --max-instances.
	Instances struct {
		Live    int `json:"live"`
		Idle    int `json:"idle"`
		Waiting int `json:"waiting"`
	} `json:"instances"`
	// Hosts are the Node processes running instances as threads.
	Hosts     []int                        `json:"hosts"`
	Functions map[string]runtime.PoolStats `json:"functions"`
}

func (i *Instance) stats() Stats {
	var st Stats
	st.Instances.Live, st.Instances.Idle, st.Instances.Waiting = i.tools.budget.Stats()
	if i.tools.hosts != nil {
		st.Hosts = i.tools.hosts.Pids()
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	st.Functions = make(map[string]runtime.PoolStats, len(i.pools))
	for name, p := range i.pools {
		st.Functions[name] = p.Stats()
	}
	return st
}

// stopBudget bounds shutdown after the grace period: bgfn dev ends within
// --shutdown-timeout plus this, whatever its workers are doing.
const stopBudget = 1500 * time.Millisecond

// allPools lists the current pools and the retiring ones.
func (i *Instance) allPools() []*runtime.Pool {
	out := make([]*runtime.Pool, 0, len(i.pools))
	for _, p := range i.pools {
		out = append(out, p)
	}
	i.rmu.Lock()
	for p := range i.retiring {
		out = append(out, p)
	}
	i.rmu.Unlock()
	return out
}

// waitTasks waits for wg until ctx ends: a build that cannot be cancelled
// (esbuild's) must not hold up the exit.
func waitTasks(wg *sync.WaitGroup, ctx context.Context) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// runningSummary names the invocations still running, for shutdown lines.
func runningSummary(store *records.Store) string {
	var names []string
	for _, r := range store.Unfinished() {
		if r.Status() != records.Running {
			continue
		}
		names = append(names, fmt.Sprintf("%s#%s (running %s)", r.Function(), records.ShortID(r.ID()), logs.Duration(time.Since(r.CreatedAt()))))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "1 running invocation: " + names[0]
	}
	n := len(names)
	if n > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", n-5))
	}
	return fmt.Sprintf("%d running invocations: %s", n, strings.Join(names, ", "))
}
