package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// ListOptions are the flags of `bgfn list`.
type ListOptions struct {
	Streams   *ui.IOStreams
	Global    *globalOptions
	Functions string
	JSON      bool
	Port      int
}

// NewCmdList builds `bgfn list`.
func NewCmdList(streams *ui.IOStreams, g *globalOptions, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{Streams: streams, Global: g}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the site's functions",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := argsError(cmd, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Functions, "functions", "", "functions folder (overrides netlify.toml)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON for scripts")
	cmd.Flags().IntVar(&opts.Port, "port", 0, "port used in the URLs (default: netlify.toml's, else 9999)")
	return cmd
}

type listEntry struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Runtime string `json:"runtime"`
	URL     string `json:"url"`
	Source  string `json:"source"`
	Invalid string `json:"invalid,omitempty"`
}

func runList(_ context.Context, opts *ListOptions) error {
	cfg, err := config.Load(configOptions(opts.Global, opts.Functions))
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(opts.Streams.ErrOut, "warning: "+w)
	}
	fns, warnings, err := discover.Discover(os.DirFS(cfg.FunctionsDir), func(name string) discover.Settings {
		fs := cfg.Functions.For(name)
		return discover.Settings{Background: fs.Background, Schedule: fs.Schedule}
	})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(opts.Streams.ErrOut, "warning: "+w)
	}
	port := opts.Port
	if port == 0 {
		port = cfg.Port
	}
	if port == 0 {
		port = 9999
	}
	entries := make([]listEntry, 0, len(fns))
	for _, fn := range fns {
		src := filepath.Join(cfg.FunctionsDir, filepath.FromSlash(fn.Entry))
		if r, err := filepath.Rel(cfg.SiteDir, src); err == nil && !strings.HasPrefix(r, "..") {
			src = filepath.ToSlash(r)
		}
		entries = append(entries, listEntry{
			Name: fn.Name, Kind: string(fn.Kind), Runtime: string(fn.Runtime),
			URL:    fmt.Sprintf("http://127.0.0.1:%d/.netlify/functions/%s", port, fn.Name),
			Source: src, Invalid: fn.Invalid,
		})
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.Streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(opts.Streams.ErrOut, "no functions found in %s\n", cfg.FunctionsDir)
		return nil
	}
	tw := tabwriter.NewWriter(opts.Streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tRUNTIME\tURL\tSOURCE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, e.Kind, e.Runtime, e.URL, e.Source)
	}
	return tw.Flush()
}

func configOptions(g *globalOptions, functions string) config.Options {
	return config.Options{Dir: g.Dir, FunctionsDir: functions}
}
