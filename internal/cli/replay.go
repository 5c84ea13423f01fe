package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/records"
)

// ReplayOptions are the flags of `bgfn replay`.
type ReplayOptions struct {
	Factory *Factory
	ID      string
	Data    string
	DataSet bool
	Server  string
	// Interrupted resumes every interrupted background run instead of
	// replaying one invocation.
	Interrupted bool
}

// NewCmdReplay builds `bgfn replay`.
func NewCmdReplay(f *Factory, runF func(context.Context, *ReplayOptions) error) *cobra.Command {
	opts := &ReplayOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "replay ID | --interrupted",
		Short: "Run a recorded invocation again on the running bgfn dev",
		Long: `Run a recorded invocation again on the running bgfn dev, as a new invocation
that names the one it repeats (replayOf).

With --interrupted, run every interrupted background run again instead:
those a bgfn dev that was killed left unfinished, and those a shutdown
stopped. They keep their ids and go on from their next attempt, as with
bgfn dev --resume.`,
		Example: `  bgfn replay 01a21d96fabec6ac67dd
  bgfn replay 01a21d96fabec6ac67dd --data '{"to":"b@c.d"}'
  bgfn replay --interrupted`,
		Args: func(cmd *cobra.Command, args []string) error {
			interrupted, _ := cmd.Flags().GetBool("interrupted")
			switch {
			case interrupted && len(args) > 0:
				return usageError(fmt.Errorf("bgfn replay --interrupted takes no invocation id: it resumes every interrupted background run"))
			case interrupted && cmd.Flags().Changed("data"):
				return usageError(fmt.Errorf("bgfn replay --interrupted takes no --data: interrupted runs go on with their own request"))
			case !interrupted && len(args) != 1:
				return usageError(fmt.Errorf("bgfn replay needs exactly one invocation id (see /.bgfn/api/invocations), or --interrupted"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.ID = args[0]
			}
			opts.DataSet = cmd.Flags().Changed("data")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReplay(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Data, "data", "d", "", "new request body (default: the recorded one); @FILE reads a file")
	cmd.Flags().StringVar(&opts.Server, "server", "", "URL of the running bgfn dev (default: from .netlify/bgfn/dev.json)")
	cmd.Flags().BoolVar(&opts.Interrupted, "interrupted", false, "resume every interrupted background run, keeping its id, from its next attempt")
	return cmd
}

func runReplay(ctx context.Context, opts *ReplayOptions) error {
	c, err := devClient(opts.Factory, opts.Server)
	if err != nil {
		return err
	}
	if opts.Interrupted {
		return resumeInterrupted(ctx, opts, c)
	}
	base := c.Base
	var body io.Reader
	if opts.DataSet {
		data := opts.Data
		if p, ok := strings.CutPrefix(data, "@"); ok {
			b, err := os.ReadFile(p)
			if err != nil {
				return usageError(fmt.Errorf("read --data file: %w", err))
			}
			data = string(b)
		}
		body = strings.NewReader(data)
	}
	out, err := c.Replay(ctx, opts.ID, body)
	var se *apiclient.StatusError
	switch {
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		return exit.With(exit.Usage, fmt.Errorf("no invocation %q on %s", opts.ID, base))
	case errors.As(err, &se):
		return exit.With(exit.Failed, fmt.Errorf("replay %s: %w", opts.ID, err))
	case err != nil:
		return exit.With(exit.Unavailable, err)
	}
	_, err = opts.Factory.IOStreams.Out.Write(out)
	return err
}

// resumeInterrupted asks the running bgfn dev to resume its interrupted
// runs: their records go to stdout as the API answers them, a summary to
// stderr.
func resumeInterrupted(ctx context.Context, opts *ReplayOptions, c *apiclient.Client) error {
	out, err := c.ResumeInterrupted(ctx)
	var se *apiclient.StatusError
	switch {
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		return exit.With(exit.Unavailable, fmt.Errorf("the bgfn dev at %s cannot resume runs (it keeps no journal, or is older than this bgfn)", c.Base))
	case errors.As(err, &se):
		return exit.With(exit.Failed, fmt.Errorf("resume interrupted runs: %w", err))
	case err != nil:
		return exit.With(exit.Unavailable, err)
	}
	var res api.ResumeResult
	if err := json.Unmarshal(out, &res); err != nil {
		return exit.With(exit.Failed, fmt.Errorf("read the answer of %s: %w", c.Base, err))
	}
	streams := opts.Factory.IOStreams
	if len(res.Resumed) == 0 {
		fmt.Fprintln(streams.ErrOut, "no interrupted background runs to resume on "+c.Base)
	} else {
		fmt.Fprintf(streams.ErrOut, "resumed %d interrupted background run(s) on %s\n", len(res.Resumed), c.Base)
		for _, v := range res.Resumed {
			fmt.Fprintf(streams.ErrOut, "  %s#%s  next attempt %d/%d\n", v.Function, records.ShortID(v.ID), nextAttempt(v.Attempts), v.MaxAttempts)
		}
	}
	_, err = streams.Out.Write(append(out, '\n'))
	return err
}

// nextAttempt is the attempt a resumed run goes on with: the one after
// those that ended. By the time the API answers, that attempt may have
// started already (a free instance takes it at once).
func nextAttempt(attempts []records.Attempt) int {
	n := 1
	for _, a := range attempts {
		if a.Status != records.Running {
			n = a.N + 1
		}
	}
	return n
}
