package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// The commands that follow and steer runs on a running bgfn dev (issue
// 17): bgfn runs, logs, cancel and retry. Like bgfn replay they find the
// server through the site's .netlify/bgfn/dev.json, or --server.

// devClient is a client of the site's running bgfn dev: --server when
// given, else the one its dev.json names (with its token).
func devClient(f *Factory, server string) (*apiclient.Client, error) {
	if server != "" {
		return &apiclient.Client{Base: strings.TrimRight(server, "/"), Token: os.Getenv("BGFN_TOKEN")}, nil
	}
	cfg, err := config.Load(f.ConfigOptions(""))
	if err != nil {
		return nil, err
	}
	st, err := site.ReadState(cfg.BaseDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, exit.With(exit.Unavailable, fmt.Errorf("no running bgfn dev for %s (no .netlify/bgfn/dev.json)", cfg.SiteDir))
		}
		return nil, exit.With(exit.Unavailable, err)
	}
	return apiclient.ForState(st), nil
}

// apiFailure turns an API error into the command's: a usage error for an
// unknown id (404) or an action that does not fit (409), unavailable when
// the server did not answer.
func apiFailure(err error, what string) error {
	var se *apiclient.StatusError
	switch {
	case errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusConflict):
		return exit.With(exit.Usage, errors.New(se.Message()))
	case errors.As(err, &se):
		return exit.With(exit.Failed, fmt.Errorf("%s: %s", what, se.Message()))
	}
	return exit.With(exit.Unavailable, fmt.Errorf("%s: %w", what, err))
}

// --- bgfn cancel and bgfn retry

// ControlOptions are the flags of `bgfn cancel` and `bgfn retry`.
type ControlOptions struct {
	Factory *Factory
	ID      string
	Server  string
	JSON    bool
}

func oneID(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError(fmt.Errorf("bgfn %s needs exactly one invocation id (bgfn runs lists them)", name))
		}
		return nil
	}
}

// NewCmdCancel builds `bgfn cancel`.
func NewCmdCancel(f *Factory, runF func(context.Context, *ControlOptions) error) *cobra.Command {
	opts := &ControlOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a queued, running or retrying background invocation",
		Long: `Cancel a background invocation on the running bgfn dev: a queued one never
starts, a running one has its instance stopped (its worker thread terminated,
or its process group killed), and one waiting for a retry is not retried. It
ends as cancelled; the function's other instances go on.`,
		Example: `  bgfn cancel 01a21d96fabec6ac67dd`,
		Args:    oneID("cancel"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runControl(cmd.Context(), opts, "cancel")
		},
	}
	cmd.Flags().StringVar(&opts.Server, "server", "", "URL of the running bgfn dev (default: from .netlify/bgfn/dev.json)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the invocation's record as JSON")
	return cmd
}

// NewCmdRetry builds `bgfn retry`.
func NewCmdRetry(f *Factory, runF func(context.Context, *ControlOptions) error) *cobra.Command {
	opts := &ControlOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "retry ID",
		Short:   "Start the next attempt of a retrying background invocation now",
		Long:    `Skip the wait of a background invocation that failed and waits for its retry: its next attempt starts at once.`,
		Example: `  bgfn retry 01a21d96fabec6ac67dd`,
		Args:    oneID("retry"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runControl(cmd.Context(), opts, "retry")
		},
	}
	cmd.Flags().StringVar(&opts.Server, "server", "", "URL of the running bgfn dev (default: from .netlify/bgfn/dev.json)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the invocation's record as JSON")
	return cmd
}

func runControl(ctx context.Context, opts *ControlOptions, verb string) error {
	c, err := devClient(opts.Factory, opts.Server)
	if err != nil {
		return err
	}
	var v *records.View
	if verb == "cancel" {
		v, err = c.Cancel(ctx, opts.ID)
	} else {
		v, err = c.Retry(ctx, opts.ID)
	}
	if err != nil {
		return apiFailure(err, verb+" "+opts.ID)
	}
	streams := opts.Factory.IOStreams
	if opts.JSON {
		return writeJSONOut(streams.Out, v)
	}
	p := opts.Factory.Printer()
	defer p.Flush()
	switch {
	case verb == "cancel" && v.Status == records.Cancelled:
		p.Status(true, fmt.Sprintf("cancelled %s (%s) after %d attempt(s)", v.ID, v.Function, len(v.Attempts)))
	case verb == "cancel":
		p.Status(true, fmt.Sprintf("cancelling %s (%s): its instance is being stopped", v.ID, v.Function))
	default:
		p.Status(true, fmt.Sprintf("retrying %s (%s) now: attempt %d of %d", v.ID, v.Function, len(v.Attempts)+1, v.MaxAttempts))
	}
	return nil
}

func writeJSONOut(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// --- bgfn runs

// RunsOptions are the flags of `bgfn runs`.
type RunsOptions struct {
	Factory  *Factory
	Function string
	Status   string
	Limit    int
	JSON     bool
	Server   string
}

// NewCmdRuns builds `bgfn runs`.
func NewCmdRuns(f *Factory, runF func(context.Context, *RunsOptions) error) *cobra.Command {
	opts := &RunsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the invocations of the running bgfn dev, newest first",
		Example: `  bgfn runs
  bgfn runs --function send-email-background --status failed
  bgfn runs --json | jq '.[0].id'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := argsError(cmd, args); err != nil {
				return err
			}
			if opts.Status != "" && !slices.Contains(records.Statuses, records.Status(opts.Status)) {
				return usageError(fmt.Errorf("invalid --status %q: use one of %s", opts.Status, statusNames()))
			}
			if opts.Limit < 0 {
				return usageError(fmt.Errorf("invalid --limit %d: use 0 (all) or more", opts.Limit))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRuns(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Function, "function", "", "only this function's invocations")
	fl.StringVar(&opts.Status, "status", "", "only invocations in this state: "+statusNames())
	fl.IntVar(&opts.Limit, "limit", 50, "at most this many (0: every record held)")
	fl.BoolVar(&opts.JSON, "json", false, "print the records as JSON for scripts")
	fl.StringVar(&opts.Server, "server", "", "URL of the running bgfn dev (default: from .netlify/bgfn/dev.json)")
	return cmd
}

func statusNames() string {
	names := make([]string, len(records.Statuses))
	for i, s := range records.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func runRuns(ctx context.Context, opts *RunsOptions) error {
	c, err := devClient(opts.Factory, opts.Server)
	if err != nil {
		return err
	}
	vs, err := c.Invocations(ctx, records.Filter{Function: opts.Function, Status: records.Status(opts.Status), Limit: opts.Limit})
	if err != nil {
		return apiFailure(err, "list runs")
	}
	streams := opts.Factory.IOStreams
	if opts.JSON {
		return writeJSONOut(streams.Out, vs)
	}
	if len(vs) == 0 {
		fmt.Fprintln(streams.ErrOut, "no runs")
		return nil
	}
	header := []string{"ID", "FUNCTION", "KIND", "STATE", "ATTEMPT", "STARTED", "DURATION", "STATUS", "REQUEST"}
	rows := make([][]string, 0, len(vs))
	now := time.Now()
	for _, v := range vs {
		d := time.Duration(v.DurationMs * float64(time.Millisecond))
		if !v.Status.Final() {
			d = now.Sub(v.CreatedAt)
		}
		code := "-"
		switch {
		case v.StatusCode != 0:
			code = strconv.Itoa(v.StatusCode)
		case v.Kind == "background":
			code = "202"
		}
		state := string(v.Status)
		if v.NextRetryAt != nil {
			state += " (in " + logs.Duration(time.Until(*v.NextRetryAt)) + ")"
		}
		rows = append(rows, []string{v.ID, v.Function, v.Kind, state, fmt.Sprintf("%d/%d", len(v.Attempts), v.MaxAttempts),
			v.CreatedAt.Local().Format("15:04:05.000"), logs.Duration(d), code, v.Request.Method + " " + v.Request.Path})
	}
	if streams.IsStdoutTTY() {
		_, err := fmt.Fprintln(streams.Out, logs.Table(streams.ColorOut(), header, rows))
		return err
	}
	tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// --- bgfn logs

// LogsOptions are the flags of `bgfn logs`.
type LogsOptions struct {
	Factory  *Factory
	ID       string
	Function string
	Follow   bool
	Server   string
}

// NewCmdLogs builds `bgfn logs`.
func NewCmdLogs(f *Factory, runF func(context.Context, *LogsOptions) error) *cobra.Command {
	opts := &LogsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "logs [ID]",
		Short: "Print a run's log lines, or follow every function's",
		Long: `Print the log lines of one invocation (ID), or the newest lines of every
function (or of one, with --function) that the running bgfn dev holds.

--follow goes on printing new lines as they come, from the server's event
stream: for one invocation until it ends, otherwise until Ctrl-C (exit 0).
Lines go to stdout as "name#id | line"; a run's attempts are "name#id/N".`,
		Example: `  bgfn logs 01a21d96fabec6ac67dd
  bgfn logs --follow
  bgfn logs --function send-email-background --follow`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usageError(fmt.Errorf("bgfn logs takes at most one invocation id, got %q", strings.Join(args, " ")))
			case len(args) == 1 && opts.Function != "":
				return usageError(fmt.Errorf("give an invocation id or --function, not both"))
			case len(args) == 1:
				opts.ID = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogs(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Function, "function", "", "only this function's lines")
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new lines (until the run ends, or Ctrl-C)")
	fl.StringVar(&opts.Server, "server", "", "URL of the running bgfn dev (default: from .netlify/bgfn/dev.json)")
	return cmd
}

// lineKey identifies a line printed from a tail, so the same line from
// the event stream is not printed twice.
type lineKey struct {
	id, text string
	at       time.Time
}

func runLogs(ctx context.Context, opts *LogsOptions) error {
	c, err := devClient(opts.Factory, opts.Server)
	if err != nil {
		return err
	}
	streams := opts.Factory.IOStreams
	out := logs.NewPrinter(streams.Out, streams.ColorOut())
	defer out.Flush()
	var names []string
	if fns, err := c.Functions(ctx); err == nil {
		for _, fn := range fns {
			names = append(names, fn.Name)
		}
	}
	out.SetNames(names)
	print := func(fn, id string, l records.LogLine, max int) {
		prefix := records.ShortID(id)
		if max > 1 {
			prefix += "/" + strconv.Itoa(l.Attempt)
		}
		out.FunctionLine(fn, prefix, []byte(l.Line))
	}

	// Subscribe first, then read what is held: a line printed in between
	// is in both, and printed once.
	seen := map[lineKey]bool{}
	maxAttempts := map[string]int{}
	history := func() (done bool, err error) {
		if opts.ID != "" {
			v, err := c.Invocation(ctx, opts.ID)
			if err != nil {
				return false, apiFailure(err, "get "+opts.ID)
			}
			maxAttempts[v.ID] = v.MaxAttempts
			for _, l := range v.Logs {
				print(v.Function, v.ID, l, v.MaxAttempts)
				seen[lineKey{v.ID, l.Line, l.Time}] = true
			}
			if v.LogsCut > 0 {
				opts.Factory.Printer().Dim(fmt.Sprintf("… %d more lines were not kept", v.LogsCut))
			}
			return v.Status.Final(), nil
		}
		t, err := c.Logs(ctx, records.TailQuery{Function: opts.Function, Limit: 500})
		if err != nil {
			return false, apiFailure(err, "tail logs")
		}
		for _, l := range t.Lines {
			print(l.Function, l.ID, l.LogLine, 0)
			seen[lineKey{l.ID, l.Line, l.Time}] = true
		}
		return false, nil
	}
	if !opts.Follow {
		_, err := history()
		return err
	}
	errc := make(chan error, 1)
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := func() {
		done, err := history()
		out.Flush()
		if err != nil {
			errc <- err
			stop()
			return
		}
		if done {
			stop() // the run had ended: nothing more will come
		}
	}
	err = c.Events(fctx, ready, func(ev records.Event) error {
		switch ev.Type {
		case "log":
			if ev.Log == nil || opts.ID != "" && ev.ID != opts.ID || opts.Function != "" && ev.Function != opts.Function {
				return nil
			}
			if seen[lineKey{ev.ID, ev.Log.Line, ev.Log.Time}] {
				return nil
			}
			m, ok := maxAttempts[ev.ID]
			if !ok {
				m = 2 // an attempt number tells the lines of a retried run apart
				if ev.Log.Attempt <= 1 {
					m = 0
				}
			}
			print(ev.Function, ev.ID, *ev.Log, m)
			out.Flush()
		case "record":
			if opts.ID == "" {
				return nil
			}
			var v records.View
			if json.Unmarshal(ev.Record, &v) == nil && v.ID == opts.ID && v.Status.Final() {
				stop()
			}
		}
		return nil
	})
	select {
	case e := <-errc:
		return e
	default:
	}
	switch {
	case errors.Is(err, context.Canceled) || err == nil:
		return nil
	case err != nil && ctx.Err() == nil && fctx.Err() == nil:
		return exit.With(exit.Unavailable, fmt.Errorf("follow the logs: %w (did bgfn dev stop?)", err))
	}
	return nil
}
