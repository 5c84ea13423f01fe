package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/invoke"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// ReplayOptions are the flags of `bgfn replay`.
type ReplayOptions struct {
	Streams *ui.IOStreams
	Global  *globalOptions
	ID      string
	Data    string
	DataSet bool
	Server  string
}

// NewCmdReplay builds `bgfn replay`.
func NewCmdReplay(streams *ui.IOStreams, g *globalOptions, runF func(context.Context, *ReplayOptions) error) *cobra.Command {
	opts := &ReplayOptions{Streams: streams, Global: g}
	cmd := &cobra.Command{
		Use:   "replay ID",
		Short: "Run a recorded invocation again on the running bgfn dev",
		Example: `  bgfn replay 01a21d96fabec6ac67dd
  bgfn replay 01a21d96fabec6ac67dd --data '{"to":"b@c.d"}'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("bgfn replay needs exactly one invocation id (see /.bgfn/api/invocations)")}
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
	base := opts.Server
	if base == "" {
		cfg, err := config.Load(configOptions(opts.Global, ""))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(dev.StatePath(cfg.BaseDir))
		if err != nil {
			return &invoke.Error{Code: invoke.ExitUnreachable, Err: fmt.Errorf("no running bgfn dev for %s (no .netlify/bgfn/dev.json)", cfg.SiteDir)}
		}
		var st dev.State
		if err := json.Unmarshal(b, &st); err != nil {
			return &invoke.Error{Code: invoke.ExitUnreachable, Err: fmt.Errorf("read .netlify/bgfn/dev.json: %w", err)}
		}
		base = st.URL
	}
	var body io.Reader
	if opts.DataSet {
		data := opts.Data
		if p, ok := strings.CutPrefix(data, "@"); ok {
			b, err := os.ReadFile(p)
			if err != nil {
				return &usageError{fmt.Errorf("read --data file: %w", err)}
			}
			data = string(b)
		}
		body = strings.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/.bgfn/api/invocations/"+opts.ID+"/replay", body)
	if err != nil {
		return &usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &invoke.Error{Code: invoke.ExitUnreachable, Err: err}
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return &invoke.Error{Code: invoke.ExitUsage, Err: fmt.Errorf("no invocation %q on %s", opts.ID, base)}
	}
	if resp.StatusCode >= 400 {
		return &invoke.Error{Code: invoke.ExitFailed, Err: fmt.Errorf("replay %s: %s: %s", opts.ID, resp.Status, strings.TrimSpace(string(out)))}
	}
	_, err = opts.Streams.Out.Write(out)
	return err
}
