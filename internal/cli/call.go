package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/invoke"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// addCallFlags registers the flags bgfn invoke and bgfn trigger share:
// where the call goes (a running bgfn dev or standalone), its headers and
// limits, and the standalone runtime's settings. what names the functions
// built standalone ("the function", "the functions").
func addCallFlags(cmd *cobra.Command, o *invoke.Options, functions *string, what string) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fl.DurationVar(&o.Timeout, "timeout", 60*time.Second, "limit for a synchronous function")
	fl.IntVar(&o.Port, "port", 0, "port of a running bgfn dev (default: netlify.toml's, else 9999)")
	fl.StringVar(&o.Server, "server", "", "URL of a running bgfn dev to use")
	fl.BoolVar(&o.Standalone, "standalone", false, "always build and run "+what+" here, even if bgfn dev runs")
	fl.BoolVarP(&o.Verbose, "verbose", "v", false, "print response headers on stderr")
	fl.Float64Var(&o.RetryScale, "retry-scale", 1, "standalone: scale the background retry delays (0 retries at once)")
	fl.BoolVar(&o.NoRetries, "no-retries", false, "standalone: do not retry a failed background invocation")
	fl.DurationVar(&o.BackgroundTimeout, "background-timeout", 15*time.Minute, "standalone: limit for a background function")
	fl.DurationVar(&o.InitTimeout, "init-timeout", runtime.DefaultInitTimeout, "standalone: limit for the worker's start (at most --timeout)")
	fl.StringVar(functions, "functions", "", "functions folder (overrides netlify.toml)")
}

// prepareCall fills what bgfn invoke and bgfn trigger take from the
// command line and the factory once the flags are parsed, and checks the
// flags that exclude each other. The caller flushes o.Printer.
func prepareCall(cmd *cobra.Command, f *Factory, o *invoke.Options, functions string) error {
	o.DataSet = cmd.Flags().Changed("data")
	o.Config = f.ConfigOptions(functions)
	if o.Standalone && o.Server != "" {
		return usageError(fmt.Errorf("--standalone and --server cannot be used together"))
	}
	o.Printer = f.Printer()
	return nil
}

// runCall runs a prepared call: run, or runF in tests.
func runCall[O any](ctx context.Context, o *O, runF func(context.Context, *O) error, run func(context.Context, O) error) error {
	if runF != nil {
		return runF(ctx, o)
	}
	return run(ctx, *o)
}
