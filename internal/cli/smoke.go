package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/site"
	"github.com/bgfn-dev/bgfn/internal/smoke"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// SmokeOptions are the flags of `bgfn smoke`.
type SmokeOptions struct {
	Factory *Factory
	// Getenv reads GITHUB_ACTIONS and GITHUB_WORKSPACE.
	Getenv func(string) string

	Files      []string
	Functions  string
	Parallel   int
	Timeout    time.Duration
	JUnit      string
	JSON       bool
	Init       bool
	Force      bool
	Server     string
	Standalone bool
	Port       int
	Verbose    bool

	// The in-process runtime's settings.
	RetryScale        float64
	NoRetries         bool
	BackgroundTimeout time.Duration
	// RuntimeFlags are the runtime flags given, which a running bgfn dev
	// does not take.
	RuntimeFlags []string
}

// NewCmdSmoke builds `bgfn smoke`. runF replaces the run function in tests.
func NewCmdSmoke(f *Factory, runF func(context.Context, *SmokeOptions) error) *cobra.Command {
	opts := &SmokeOptions{Factory: f, Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "smoke [FILE...]",
		Short: "Run the smoke tests of smoke.toml against the site's functions",
		Long: `Run declarative smoke tests: each case of smoke.toml (or of the files given)
sends one request to a function and checks its answer. Cases run in parallel;
the report is a line per case on stderr, and optionally JUnit XML (--junit),
JSON lines on stdout (--json) and, when GITHUB_ACTIONS=true, an error
annotation per failed case at its line of the smoke file.

The cases go to the running bgfn dev of the site when there is one (see
bgfn invoke); otherwise bgfn smoke starts the functions in process, once for
all the cases, and stops them at the end, leaving no process behind.

A smoke file is a list of [[case]] tables (` + "`bgfn smoke --init`" + ` writes one).
Every key of a case (the README has whole examples):

  [[case]]
  name = "create an item"      # default: METHOD target
  function = "create-item"     # or path = "/api/items" (a custom route)
  method = "POST"              # default GET, or POST when there is a body
  query = "draft=1"            # or a table: query = { draft = "1" }
  headers = { Authorization = "Bearer test" }
  json = { name = "Ada" }      # or body = "text", or body = "@file" (relative
                               # to the smoke file; "@@" for a literal @)
  wait = false                 # background: follow the invocation to its end
  serial = false               # run alone, after the cases before it
  timeout = "30s"              # the whole case (default --timeout)
  [case.expect]
  status = 201                 # default: any status below 400
  body = "exact body"
  body_contains = "Ada"        # a string or a list, as body_matches
  body_matches = '^\{"id":'    # a Go regular expression
  json = { name = "Ada", "tags.0" = "new" }   # path = value; objects match
                                              # when the keys given match
  headers = { "Content-Type" = "application/json" }
  header_present = ["Location"]
  max_duration = "500ms"       # the round trip, or with wait the invocation
  # with wait = true (state defaults to "succeeded"):
  state = "succeeded"          # or failed, timed_out, interrupted
  attempts = 1
  log_contains = "sent"        # a log line contains it (a list: each)
  log_matches = '^sent to \S+$'
  [case.capture]
  id = { json = "id" }         # or { header = "Location" }: later cases
                               # use ${id} (write $${ for a literal ${)

A case that uses or captures a variable runs after the case before it that
did, and is skipped when its value was not captured. Unknown keys are errors.

Exit codes:
  0  every case passed
  1  a case failed, could not run, or was skipped
  2  a bad smoke file (the message names its file, line and key), or bad flags
  3  the runtime could not be started, or --server could not be reached
  130 interrupted`,
		Example: `  bgfn smoke
  bgfn smoke --init                          # write a starter smoke.toml
  bgfn smoke --junit report.xml --retry-scale 0
  bgfn smoke tests/api.toml tests/jobs.toml --parallel 8
  bgfn smoke --json | jq -c 'select(.outcome != "passed")'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			switch {
			case opts.Parallel < 1:
				return usageError(fmt.Errorf("invalid --parallel %d: use 1 or more", opts.Parallel))
			case opts.Timeout <= 0 || opts.BackgroundTimeout <= 0:
				return usageError(fmt.Errorf("--timeout and --background-timeout must be positive"))
			case opts.RetryScale < 0:
				return usageError(fmt.Errorf("invalid --retry-scale %g: use 0 or more (1 is Netlify's 1m and 2m)", opts.RetryScale))
			case opts.Standalone && opts.Server != "":
				return usageError(fmt.Errorf("--standalone and --server cannot be used together"))
			case opts.Init && len(args) > 1:
				return usageError(fmt.Errorf("--init writes one file, got %d", len(args)))
			}
			for _, name := range []string{"retry-scale", "no-retries", "background-timeout"} {
				if cmd.Flags().Changed(name) {
					opts.RuntimeFlags = append(opts.RuntimeFlags, "--"+name)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSmoke(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Parallel, "parallel", goruntime.NumCPU(), "cases to run at once")
	fl.DurationVar(&opts.Timeout, "timeout", smoke.DefaultTimeout, "limit for each case, waiting included (a case's timeout key wins)")
	fl.StringVar(&opts.JUnit, "junit", "", "also write a JUnit XML report to FILE")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per case on stdout")
	fl.BoolVar(&opts.Init, "init", false, "write a starter smoke.toml with a case per function, and exit")
	fl.BoolVar(&opts.Force, "force", false, "with --init, overwrite an existing file")
	fl.StringVar(&opts.Server, "server", "", "URL of a running bgfn dev to use")
	fl.BoolVar(&opts.Standalone, "standalone", false, "always start the functions here, even if bgfn dev runs")
	fl.IntVar(&opts.Port, "port", 0, "port of a running bgfn dev (default: netlify.toml's, else 9999)")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "print the functions' log lines as they run (in-process runtime)")
	fl.Float64Var(&opts.RetryScale, "retry-scale", 1, "in-process runtime: scale the background retry delays (0 retries at once, as CI wants)")
	fl.BoolVar(&opts.NoRetries, "no-retries", false, "in-process runtime: do not retry a failed background invocation")
	fl.DurationVar(&opts.BackgroundTimeout, "background-timeout", 15*time.Minute, "in-process runtime: limit for a background function")
	fl.StringVar(&opts.Functions, "functions", "", "functions folder (overrides netlify.toml)")
	return cmd
}

func runSmoke(ctx context.Context, opts *SmokeOptions) error {
	st, err := site.Load(opts.Factory.ConfigOptions(opts.Functions))
	if err != nil {
		return err
	}
	fns := st.Functions
	files := opts.Files
	if len(files) == 0 {
		files = []string{filepath.Join(opts.Factory.Dir, smoke.DefaultFile)}
	}
	if opts.Init {
		return writeStarter(opts, files[0], fns)
	}

	site := &smoke.Site{Functions: fns}
	var suites []*smoke.Suite
	total := 0
	for _, f := range files {
		s, err := smoke.Load(f, site)
		if err != nil {
			return err
		}
		suites = append(suites, s)
		total += len(s.Cases)
	}

	target, err := startSmokeTarget(ctx, opts, st, total)
	if err != nil {
		return err
	}
	defer target.stop()

	streams := opts.Factory.IOStreams
	human := smoke.NewHuman(streams.ErrOut, ui.NewStyles(streams.ErrOut, streams.ColorErr()), streams.IsStderrTTY(), !opts.Verbose, total)
	reporters := smoke.Reporters{human}
	if opts.JSON {
		reporters = append(reporters, smoke.NewJSONLines(streams.Out))
	}
	if opts.Getenv("GITHUB_ACTIONS") == "true" {
		// Workflow commands go to stdout, where the runner looks for them,
		// unless stdout carries --json.
		w := streams.Out
		if opts.JSON {
			w = streams.ErrOut
		}
		reporters = append(reporters, smoke.NewGitHub(w, opts.Getenv("GITHUB_WORKSPACE")))
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = opts.Parallel
	runner := &smoke.Runner{
		Base:     target.url,
		Client:   &http.Client{Transport: transport},
		Parallel: opts.Parallel,
		Timeout:  opts.Timeout,
		Reporter: reporters,
	}
	start := time.Now()
	results := runner.Run(ctx, suites)
	took := time.Since(start)
	transport.CloseIdleConnections()
	target.stop()

	human.Summary(results, took, target.desc)
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, suites, results, took); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return exit.Reported(exit.Interrupted)
	}
	if c := smoke.Count(results); c.Failed+c.Errored+c.Skipped > 0 {
		return exit.Reported(exit.Failed)
	}
	return nil
}

// smokeTarget is the server bgfn smoke sends its cases to.
type smokeTarget struct {
	url  string
	desc string
	stop func()
}

// startSmokeTarget finds the running bgfn dev of the site, or starts the
// runtime in process, once for every function and case. It is bgfn smoke's
// one tie to internal/dev and to internal/invoke's finder: the runner only
// needs a URL.
func startSmokeTarget(ctx context.Context, opts *SmokeOptions, s *site.Site, cases int) (*smokeTarget, error) {
	streams := opts.Factory.IOStreams
	if opts.Server != "" {
		if err := ping(ctx, opts.Server); err != nil {
			return nil, exit.With(exit.Unavailable, fmt.Errorf("reach %s: %w", opts.Server, err))
		}
		return &smokeTarget{url: opts.Server, desc: "server " + opts.Server, stop: func() {}}, nil
	}
	if !opts.Standalone {
		if u, ok := apiclient.Find(ctx, s, opts.Port); ok {
			if len(opts.RuntimeFlags) > 0 {
				p := opts.Factory.Printer()
				p.Warning(fmt.Sprintf("%v apply to the in-process runtime; the cases run on the bgfn dev at %s, with its own settings (use --standalone to run here)", opts.RuntimeFlags, u))
				p.Flush()
			}
			return &smokeTarget{url: u, desc: "bgfn dev at " + u, stop: func() {}}, nil
		}
	}
	var w io.Writer = io.Discard
	if opts.Verbose {
		w = streams.ErrOut
	}
	p := logs.NewPrinter(w, streams.ColorErr())
	inst, err := dev.Start(ctx, dev.Options{
		Config:            opts.Factory.ConfigOptions(opts.Functions),
		Port:              0,
		Standalone:        true,
		Timeout:           60 * time.Second,
		BackgroundTimeout: opts.BackgroundTimeout,
		ScheduledTimeout:  30 * time.Second,
		MaxConcurrency:    opts.Parallel,
		Retries:           background.Retries(opts.NoRetries),
		RetryScale:        opts.RetryScale,
		Records:           max(1000, 2*cases),
		ShutdownTimeout:   2 * time.Second,
		Hurry:             opts.Factory.Hurry,
		Printer:           p,
	})
	if err != nil {
		var pe *config.ParseError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, exit.With(exit.Unavailable, fmt.Errorf("start the functions: %w", err))
	}
	var once sync.Once
	return &smokeTarget{url: inst.URL, desc: "in-process runtime", stop: func() {
		once.Do(func() {
			inst.Shutdown()
			p.Flush()
		})
	}}, nil
}

// ping checks that a bgfn server answers at base.
func ping(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := (&apiclient.Client{Base: base}).Info(ctx); err != nil {
		return fmt.Errorf("%w: is it a bgfn server?", err)
	}
	return nil
}

// writeStarter writes the --init smoke file.
func writeStarter(opts *SmokeOptions, path string, fns []discover.Function) error {
	if _, err := os.Stat(path); err == nil && !opts.Force {
		return usageError(fmt.Errorf("%s exists: edit it, or use --force to replace it", path))
	}
	if err := os.WriteFile(path, smoke.Starter(fns), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(opts.Factory.IOStreams.ErrOut, "wrote %s with %d cases: make their expectations yours, then run `bgfn smoke`\n", path, starterCases(fns))
	return nil
}

func starterCases(fns []discover.Function) int {
	n := 0
	for _, fn := range fns {
		if fn.Invalid == "" && fn.ConfigError == "" {
			n++
		}
	}
	return n
}

func writeJUnit(path string, suites []*smoke.Suite, results []*smoke.Result, took time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	if err := smoke.WriteJUnit(f, suites, results, took); err != nil {
		f.Close()
		return fmt.Errorf("write the JUnit report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the JUnit report %s: %w", path, err)
	}
	return nil
}
