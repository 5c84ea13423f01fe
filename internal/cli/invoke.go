package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/invoke"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// NewCmdInvoke builds `bgfn invoke`.
func NewCmdInvoke(streams *ui.IOStreams, g *globalOptions, hurry context.Context, runF func(context.Context, *invoke.Options) error) *cobra.Command {
	opts := &invoke.Options{Streams: streams, Hurry: hurry}
	var functions string
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Call one function, through a running bgfn dev or standalone",
		Long: `Call one function and print its response body on stdout; the status line,
headers (-v) and the function's logs go to stderr.

When a bgfn dev for this site is running (found through .netlify/bgfn/dev.json
or --port), the request goes there. Otherwise bgfn runs standalone: it builds
only this function, starts one worker, invokes it and stops, leaving no process
behind. --standalone and --server force a mode.

Background functions answer 202; --wait follows the invocation through its
retries until it ends. Standalone background calls always wait.

Exit codes:
  0  success: a 2xx or 3xx answer, or a background invocation that succeeded
  1  the function failed: status >= 400, a handler error, or a background
     invocation that failed or timed out
  2  usage or configuration error (unknown function, bad flag, bad netlify.toml)
  3  the runtime could not be reached or started`,
		Aliases: []string{"trigger"},
		Example: `  bgfn invoke hello --data '{"name":"Ada"}'
  bgfn trigger nightly-report        # a scheduled function, with Netlify's scheduler payload
  bgfn invoke send-email-background --data @test/payload.json --wait || exit 1
  echo '{"to":"a@b.c"}' | bgfn invoke send-email-background --data - --wait
  bgfn invoke hello --method GET --query 'name=Ada' --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("bgfn invoke needs exactly one function name, got %d (see `bgfn list`)", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.DataSet = cmd.Flags().Changed("data")
			opts.MethodSet = cmd.Flags().Changed("method")
			opts.Config = configOptions(g, functions)
			if opts.Standalone && opts.Server != "" {
				return &usageError{fmt.Errorf("--standalone and --server cannot be used together")}
			}
			st := ui.NewStyles(streams.ErrOut, streams.ColorErr())
			opts.Sink = logs.NewSink(streams.ErrOut, st)
			defer opts.Sink.Flush()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return invoke.Run(cmd.Context(), *opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Data, "data", "d", "", "request body: text or JSON, @FILE to read a file (never executed), - for stdin")
	f.StringVarP(&opts.Method, "method", "X", "POST", "HTTP method")
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	f.StringVarP(&opts.Query, "query", "q", "", "query string, e.g. 'a=1&b=2'")
	f.StringVar(&opts.Path, "path", "", "request path, with its query if any (default: /.netlify/functions/NAME, or the function's first literal config.path route)")
	f.BoolVar(&opts.Identity, "identity", false, "send a Netlify Identity-like Bearer JWT so context.clientContext.user is filled")
	f.DurationVar(&opts.Timeout, "timeout", 60*time.Second, "limit for a synchronous function")
	f.IntVar(&opts.Port, "port", 0, "port of a running bgfn dev (default: netlify.toml's, else 9999)")
	f.StringVar(&opts.Server, "server", "", "URL of a running bgfn dev to use")
	f.BoolVar(&opts.Standalone, "standalone", false, "always build and run the function here, even if bgfn dev runs")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object (status, headers, body, duration, invocation id, record)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "print response headers on stderr")
	f.BoolVar(&opts.Wait, "wait", false, "for a background function, wait until it ends and exit with its outcome")
	f.Float64Var(&opts.RetryScale, "retry-scale", 1, "standalone: scale the background retry delays (0 retries at once)")
	f.BoolVar(&opts.NoRetries, "no-retries", false, "standalone: do not retry a failed background invocation")
	f.DurationVar(&opts.BackgroundTimeout, "background-timeout", 15*time.Minute, "standalone: limit for a background function")
	f.DurationVar(&opts.InitTimeout, "init-timeout", runtime.DefaultInitTimeout, "standalone: limit for the worker's start (at most --timeout)")
	f.StringVar(&functions, "functions", "", "functions folder (overrides netlify.toml)")
	return cmd
}
