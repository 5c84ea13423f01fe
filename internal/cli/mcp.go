package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/mcp"
	"github.com/bgfn-dev/bgfn/internal/site"
	"github.com/bgfn-dev/bgfn/internal/version"
)

// MCPOptions are the flags of `bgfn mcp`.
type MCPOptions struct {
	Factory *Factory

	Functions  string
	Server     string
	Standalone bool
	Port       int
	Verbose    bool

	// The in-process runtime's settings.
	NoWatch           bool
	Poll              bool
	RetryScale        float64
	NoRetries         bool
	BackgroundTimeout time.Duration
}

// NewCmdMCP builds `bgfn mcp`. runF replaces the run function in tests.
func NewCmdMCP(f *Factory, runF func(context.Context, *MCPOptions) error) *cobra.Command {
	opts := &MCPOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve bgfn's tools to a coding agent over MCP (stdio)",
		Long: `Serve the Model Context Protocol over stdin and stdout, for agents that
spawn a command (Claude Code, Cursor, and any client with an mcpServers
entry). The tools are the verbs of the CLI: list_functions, invoke_function,
list_invocations, get_invocation, wait_invocation, replay_invocation,
cancel_invocation, tail_logs, blobs_list, blobs_get, blobs_set, blobs_delete and get_config.

The tools go to the running bgfn dev of the site when there is one (found as
bgfn invoke finds it; --server names one, --standalone never uses one).
Otherwise bgfn mcp starts the functions in process on the first tool call,
reloads them when files change, and stops them when stdin closes, leaving no
process behind. A site that does not load (a broken netlify.toml) makes the
tools answer with the error until it is fixed.

A running bgfn dev also serves the same tools over Streamable HTTP at
http://127.0.0.1:PORT/.bgfn/mcp, for agents that connect to a URL.

Nothing but MCP is written to stdout; -v prints the functions' log lines on
stderr.`,
		Example: `  bgfn mcp
  bgfn mcp --dir path/to/site
  claude mcp add bgfn -- bgfn mcp
  claude mcp add --transport http bgfn http://127.0.0.1:9999/.bgfn/mcp`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := argsError(cmd, args); err != nil {
				return err
			}
			switch {
			case opts.Standalone && opts.Server != "":
				return usageError(fmt.Errorf("--standalone and --server cannot be used together"))
			case opts.RetryScale < 0:
				return usageError(fmt.Errorf("invalid --retry-scale %g: use 0 or more (1 is Netlify's 1m and 2m)", opts.RetryScale))
			case opts.BackgroundTimeout <= 0:
				return usageError(fmt.Errorf("--background-timeout must be positive"))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runMCP(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Server, "server", "", "URL of a running bgfn dev to use")
	fl.BoolVar(&opts.Standalone, "standalone", false, "always run the functions here, even if bgfn dev runs")
	fl.IntVar(&opts.Port, "port", 0, "port of a running bgfn dev (default: netlify.toml's, else 9999)")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "print the functions' log lines on stderr (in-process runtime)")
	fl.BoolVar(&opts.NoWatch, "no-watch", false, "in-process runtime: do not rebuild functions when files change")
	fl.BoolVar(&opts.Poll, "poll", false, "in-process runtime: poll for file changes instead of using inotify")
	fl.Float64Var(&opts.RetryScale, "retry-scale", 1, "in-process runtime: scale the background retry delays (0 retries at once)")
	fl.BoolVar(&opts.NoRetries, "no-retries", false, "in-process runtime: do not retry a failed background invocation")
	fl.DurationVar(&opts.BackgroundTimeout, "background-timeout", 15*time.Minute, "in-process runtime: limit for a background function")
	fl.StringVar(&opts.Functions, "functions", "", "functions folder (overrides netlify.toml)")
	return cmd
}

func runMCP(ctx context.Context, opts *MCPOptions) error {
	streams := opts.Factory.IOStreams
	p := opts.Factory.Printer()
	defer p.Flush()
	t := &mcpTarget{opts: opts, life: ctx, p: p}
	defer t.stop()
	p.Dim(fmt.Sprintf("bgfn mcp %s: serving MCP on stdio for %s", version.Get().Version, siteName(opts)))
	p.Flush()
	return mcp.ServeStdio(ctx, mcp.Options{Target: t, Version: version.Get().Version}, streams.In, streams.Out)
}

func siteName(opts *MCPOptions) string {
	if opts.Factory.Dir != "" {
		return opts.Factory.Dir
	}
	return "the current folder"
}

// mcpTarget is the bgfn server bgfn mcp's tools talk to, found or started
// at the first tool call and checked at every later one: --server, else
// the site's running bgfn dev, else the runtime started here. A bgfn dev
// that stops is replaced by the next one found, or by the runtime here.
type mcpTarget struct {
	opts *MCPOptions
	// life is bgfn mcp's own context: the in-process runtime lives in it,
	// not in the tool call that started it.
	life context.Context
	p    *logs.Printer

	mu   sync.Mutex
	url  string
	inst *dev.Instance
	// stopWatch ends the in-process runtime's watcher; watched is closed
	// when it has returned.
	stopWatch context.CancelFunc
	watched   chan struct{}
	rp        *logs.Printer
}

var _ mcp.Target = (*mcpTarget)(nil)

// Client implements mcp.Target.
func (t *mcpTarget) Client(ctx context.Context) (*apiclient.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.url != "" && (t.inst != nil || ping(ctx, t.url) == nil) {
		return &apiclient.Client{Base: t.url}, nil
	}
	if t.opts.Server != "" {
		if err := ping(ctx, t.opts.Server); err != nil {
			return nil, fmt.Errorf("the bgfn server at %s (--server) does not answer (%v): start it, or restart bgfn mcp without --server", t.opts.Server, err)
		}
		t.url = t.opts.Server
		return &apiclient.Client{Base: t.url}, nil
	}
	if t.url != "" {
		t.p.Dim("bgfn dev at " + t.url + " is gone")
		t.url = ""
	}
	s, err := site.Load(t.opts.Factory.ConfigOptions(t.opts.Functions))
	if err != nil {
		return nil, fmt.Errorf("load the site: %w (fix it and call the tool again)", err)
	}
	if !t.opts.Standalone {
		if u, ok := apiclient.Find(ctx, s, t.opts.Port); ok {
			t.url = u
			t.p.Dim("using bgfn dev at " + u)
			t.p.Flush()
			return &apiclient.Client{Base: u}, nil
		}
	}
	if err := t.start(); err != nil {
		return nil, err
	}
	return &apiclient.Client{Base: t.url}, nil
}

// start runs the site's functions in process, as bgfn dev would without
// its banner and state file, on a free port.
func (t *mcpTarget) start() error {
	streams := t.opts.Factory.IOStreams
	var w io.Writer = io.Discard
	if t.opts.Verbose {
		w = streams.ErrOut
	}
	t.rp = logs.NewPrinter(w, streams.ColorErr())
	inst, err := dev.Start(t.life, dev.Options{
		Config:            t.opts.Factory.ConfigOptions(t.opts.Functions),
		Port:              0,
		Standalone:        true,
		Timeout:           60 * time.Second,
		BackgroundTimeout: t.opts.BackgroundTimeout,
		ScheduledTimeout:  30 * time.Second,
		Retries:           background.Retries(t.opts.NoRetries),
		RetryScale:        t.opts.RetryScale,
		Records:           1000,
		ShutdownTimeout:   2 * time.Second,
		NoWatch:           t.opts.NoWatch,
		Poll:              t.opts.Poll,
		Hurry:             t.opts.Factory.Hurry,
		Printer:           t.rp,
	})
	if err != nil {
		var pe *config.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("load the site: %w (fix it and call the tool again)", err)
		}
		return fmt.Errorf("start the functions in process: %w", err)
	}
	t.inst, t.url = inst, inst.URL
	wctx, cancel := context.WithCancel(t.life)
	t.stopWatch, t.watched = cancel, make(chan struct{})
	go func() {
		defer close(t.watched)
		inst.Watch(wctx)
	}()
	t.p.Dim("functions running in process at " + inst.URL)
	t.p.Flush()
	return nil
}

// stop ends the in-process runtime, if one was started: its watcher, then
// its workers. No process it started outlives it.
func (t *mcpTarget) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inst == nil {
		return
	}
	t.stopWatch()
	<-t.watched
	t.inst.Shutdown()
	t.rp.Flush()
	t.inst = nil
}
