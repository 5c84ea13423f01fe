package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/exit"
)

// ReplayOptions are the flags of `bgfn replay`.
type ReplayOptions struct {
	Factory *Factory
	ID      string
	Data    string
	DataSet bool
	Server  string
}

// NewCmdReplay builds `bgfn replay`.
func NewCmdReplay(f *Factory, runF func(context.Context, *ReplayOptions) error) *cobra.Command {
	opts := &ReplayOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "replay ID",
		Short: "Run a recorded invocation again on the running bgfn dev",
		Example: `  bgfn replay 01a21d96fabec6ac67dd
  bgfn replay 01a21d96fabec6ac67dd --data '{"to":"b@c.d"}'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("bgfn replay needs exactly one invocation id (see /.bgfn/api/invocations)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.DataSet = cmd.Flags().Changed("data")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReplay(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Data, "data", "d", "", "new request body (default: the recorded one); @FILE reads a file")
	cmd.Flags().StringVar(&opts.Server, "server", "", "URL of the running bgfn dev (default: from .netlify/bgfn/dev.json)")
	return cmd
}

func runReplay(ctx context.Context, opts *ReplayOptions) error {
	c, err := devClient(opts.Factory, opts.Server)
	if err != nil {
		return err
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
