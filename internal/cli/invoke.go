package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/invoke"
)

// NewCmdInvoke builds `bgfn invoke`.
func NewCmdInvoke(f *Factory, runF func(context.Context, *invoke.Options) error) *cobra.Command {
	opts := &invoke.Options{Streams: f.IOStreams, Hurry: f.Hurry, Runtime: standalone}
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
		Example: `  bgfn invoke hello --data '{"name":"Ada"}'
  bgfn invoke nightly-report         # a scheduled function, with Netlify's scheduler payload
  bgfn invoke send-email-background --data @test/payload.json --wait || exit 1
  echo '{"to":"a@b.c"}' | bgfn invoke send-email-background --data - --wait
  bgfn invoke hello --method GET --query 'name=Ada' --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("bgfn invoke needs exactly one function name, got %d (see `bgfn list`)", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.MethodSet = cmd.Flags().Changed("method")
			if err := prepareCall(cmd, f, opts, functions); err != nil {
				return err
			}
			defer opts.Printer.Flush()
			return runCall(cmd.Context(), opts, runF, invoke.Run)
		},
	}
	addCallFlags(cmd, opts, &functions, "the function")
	fl := cmd.Flags()
	fl.StringVarP(&opts.Data, "data", "d", "", "request body: text or JSON, @FILE to read a file (never executed), - for stdin")
	fl.StringVarP(&opts.Method, "method", "X", "POST", "HTTP method")
	fl.StringVarP(&opts.Query, "query", "q", "", "query string, e.g. 'a=1&b=2'")
	fl.StringVar(&opts.Path, "path", "", "request path, with its query if any (default: /.netlify/functions/NAME, or the function's first literal config.path route)")
	fl.BoolVar(&opts.Identity, "identity", false, "send a Netlify Identity-like Bearer JWT so context.clientContext.user is filled")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object (status, headers, body, duration, invocation id, record)")
	fl.BoolVar(&opts.Wait, "wait", false, "for a background function, wait until it ends and exit with its outcome")
	return cmd
}

// standalone runs bgfn dev's runtime in process for one `bgfn invoke`:
// only that function, one worker, no banner or state file.
func standalone(ctx context.Context, s invoke.Standalone) (string, func() error, error) {
	inst, err := dev.Start(ctx, dev.Options{
		Config:            s.Config,
		Port:              0,
		Only:              s.Function,
		Standalone:        true,
		Timeout:           s.Timeout,
		BackgroundTimeout: s.BackgroundTimeout,
		InitTimeout:       s.InitTimeout,
		MaxConcurrency:    1,
		Retries:           s.Retries,
		RetryScale:        s.RetryScale,
		Records:           16,
		ShutdownTimeout:   2 * time.Second,
		NoWatch:           true,
		Hurry:             s.Hurry,
		Printer:           s.Printer,
	})
	if err != nil {
		return "", nil, err
	}
	return inst.URL, inst.Shutdown, nil
}
