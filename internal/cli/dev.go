package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/server"
)

// DevOptions are the flags of `bgfn dev`.
type DevOptions struct {
	Factory *Factory

	Functions         string
	Host              string
	AllowedHosts      []string
	Port              int
	Timeout           time.Duration
	BackgroundTimeout time.Duration
	MaxConcurrency    int
	MaxInstances      int
	IdleTimeout       time.Duration
	ProcessIsolation  []string
	NoLimits          bool
	ShutdownTimeout   time.Duration
	InitTimeout       time.Duration
	RetryScale        float64
	NoRetries         bool
	Records           int
	Resume            bool
	JournalMaxSize    int64
	Poll              bool
	NoWatch           bool
	Cron              bool
	CronNow           bool
	ScheduledTimeout  time.Duration
	Geo               string
}

// NewCmdDev builds `bgfn dev`. runF replaces the run function in tests.
func NewCmdDev(f *Factory, runF func(context.Context, *DevOptions) error) *cobra.Command {
	opts := &DevOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Build and serve every function, with logs",
		Long: `Build every function of the site and serve it at /.netlify/functions/NAME.

The functions folder comes from --functions, then [functions] directory, then
[build] functions in netlify.toml, then netlify/functions. Each function runs in
warm worker processes; every line it prints appears here, prefixed with its
name and invocation id.`,
		Example: `  bgfn dev
  bgfn dev --dir testdata/sites/demo --port 0
  curl -X POST localhost:9999/.netlify/functions/send-email-background -d '{"to":"a@b.c"}'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := argsError(cmd, args); err != nil {
				return err
			}
			for _, h := range opts.AllowedHosts {
				if h == "" || strings.ContainsAny(h, "/ ") {
					return usageError(fmt.Errorf("invalid --allowed-host %q: give a host name such as myhost.local, or NAME:PORT", h))
				}
			}
			if opts.Port < -1 || opts.Port > 65535 {
				return usageError(fmt.Errorf("invalid --port %d: use 0-65535 (0 picks a free port)", opts.Port))
			}
			if opts.Timeout <= 0 || opts.BackgroundTimeout <= 0 || opts.InitTimeout <= 0 {
				return usageError(fmt.Errorf("--timeout, --background-timeout and --init-timeout must be positive"))
			}
			if opts.MaxConcurrency < 1 || opts.MaxInstances < 1 {
				return usageError(fmt.Errorf("--max-concurrency and --max-instances must be 1 or more"))
			}
			if opts.IdleTimeout < 0 {
				return usageError(fmt.Errorf("invalid --idle-timeout %s: use 0 (keep idle instances) or more", opts.IdleTimeout))
			}
			if opts.JournalMaxSize < 0 {
				return usageError(fmt.Errorf("invalid --journal-max-size %d: use 0 (the default) or more bytes", opts.JournalMaxSize))
			}
			if opts.RetryScale < 0 {
				return usageError(fmt.Errorf("invalid --retry-scale %g: use 0 or more (1 is Netlify's 1m and 2m)", opts.RetryScale))
			}
			if opts.Geo != "" {
				c, err := server.ParseCountry(opts.Geo)
				if err != nil {
					return usageError(err)
				}
				opts.Geo = c
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDev(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Functions, "functions", "", "functions folder (overrides netlify.toml)")
	fl.StringVar(&opts.Host, "host", "127.0.0.1", "address to listen on (use 0.0.0.0 to expose bgfn to your network; the runs page and API then need the token the banner prints)")
	fl.StringSliceVar(&opts.AllowedHosts, "allowed-host", nil, "more Host names the runs page and /.bgfn/ API answer to (NAME or NAME:PORT, comma-separated), besides localhost, 127.0.0.1 and the listen address")
	fl.IntVar(&opts.Port, "port", -1, "port to listen on (default: [dev] functionsPort or port in netlify.toml, else 9999; 0 picks a free port)")
	fl.DurationVar(&opts.Timeout, "timeout", 60*time.Second, "limit for synchronous functions (Netlify's production limit is 60s)")
	fl.DurationVar(&opts.BackgroundTimeout, "background-timeout", 15*time.Minute, "limit for background functions (Netlify: 15m)")
	fl.IntVar(&opts.MaxConcurrency, "max-concurrency", dev.DefaultMaxConcurrency, "most invocations of one function at once, each in an instance of its own; more wait in order")
	fl.IntVar(&opts.MaxConcurrency, "max-workers", dev.DefaultMaxConcurrency, "same as --max-concurrency")
	fl.MarkHidden("max-workers")
	fl.IntVar(&opts.MaxInstances, "max-instances", dev.DefaultMaxInstances, "most instances of all functions together; more wait, and the longest-idle instance is stopped to make room")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", dev.DefaultIdleTimeout, "stop instances idle for longer (0 keeps them)")
	fl.StringSliceVar(&opts.ProcessIsolation, "process-isolation", nil, "functions whose instances run as Node processes instead of worker threads (comma-separated, or '*'); functions that load a native addon do so anyway")
	fl.BoolVar(&opts.NoLimits, "no-limits", false, "lift Netlify's request body limits (6 MB sync, 256 KB background), Lambda's 6 MB response limit for Go functions, and the 20 MB streamed response limit")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long Ctrl-C waits for running invocations")
	fl.DurationVar(&opts.InitTimeout, "init-timeout", runtime.DefaultInitTimeout, "limit for a worker's start, Lambda's init phase (loading the module, or a Go program's start-up)")
	fl.Float64Var(&opts.RetryScale, "retry-scale", 1, "scale Netlify's background retry delays (1m, then 2m): 0.01 gives 0.6s and 1.2s, 0 retries at once")
	fl.BoolVar(&opts.NoRetries, "no-retries", false, "do not retry failed background invocations")
	fl.BoolVar(&opts.Cron, "cron", os.Getenv("BGFN_CRON") == "1", "fire scheduled functions on their schedule (also BGFN_CRON=1); off by default since a schedule may send real email")
	fl.BoolVar(&opts.CronNow, "cron-now", false, "fire every scheduled function once at start-up (implies --cron)")
	fl.DurationVar(&opts.ScheduledTimeout, "scheduled-timeout", 30*time.Second, "limit for scheduled functions (Netlify: 30s)")
	fl.StringVar(&opts.Geo, "geo", "", "country code functions see in context.geo and x-nf-geo (e.g. DE; default: netlify dev's mock San Francisco location); a request's own x-nf-geo header wins")
	fl.BoolVar(&opts.Poll, "poll", false, "poll for file changes instead of using inotify (for network and container file systems)")
	fl.BoolVar(&opts.NoWatch, "no-watch", false, "do not rebuild functions when files change")
	fl.IntVar(&opts.Records, "records", 1000, "finished invocation records kept in memory for /.bgfn/api (all are journaled)")
	fl.BoolVar(&opts.Resume, "resume", false, "run the interrupted background runs again (left unfinished by a bgfn that was killed, or stopped by a shutdown), with their ids, from their next attempt")
	fl.Int64Var(&opts.JournalMaxSize, "journal-max-size", 0, "bytes past which the background journal is compacted (default 8 MB)")
	fl.MarkHidden("journal-max-size")
	return cmd
}

func runDev(ctx context.Context, opts *DevOptions) error {
	p := opts.Factory.Printer()
	defer p.Flush()
	return dev.Run(ctx, dev.Options{
		Config:            opts.Factory.ConfigOptions(opts.Functions),
		Host:              opts.Host,
		AllowedHosts:      opts.AllowedHosts,
		Port:              opts.Port,
		Timeout:           opts.Timeout,
		BackgroundTimeout: opts.BackgroundTimeout,
		MaxConcurrency:    opts.MaxConcurrency,
		MaxInstances:      opts.MaxInstances,
		IdleTimeout:       opts.IdleTimeout,
		ProcessIsolation:  opts.ProcessIsolation,
		NoLimits:          opts.NoLimits,
		ShutdownTimeout:   opts.ShutdownTimeout,
		InitTimeout:       opts.InitTimeout,
		Retries:           background.Retries(opts.NoRetries),
		RetryScale:        opts.RetryScale,
		Records:           opts.Records,
		Resume:            opts.Resume,
		JournalMaxSize:    opts.JournalMaxSize,
		Poll:              opts.Poll,
		Cron:              opts.Cron || opts.CronNow,
		CronNow:           opts.CronNow,
		ScheduledTimeout:  opts.ScheduledTimeout,
		Geo:               opts.Geo,
		NoWatch:           opts.NoWatch,
		Hurry:             opts.Factory.Hurry,
		Printer:           p,
	})
}
