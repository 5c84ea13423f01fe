package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/schedule"
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
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Runtime     string   `json:"runtime"`
	URL         string   `json:"url"`
	Routes      []string `json:"routes,omitempty"`
	Methods     []string `json:"methods,omitempty"`
	Schedule    string   `json:"schedule,omitempty"`
	NextRun     string   `json:"nextRun,omitempty"`
	Source      string   `json:"source"`
	Invalid     string   `json:"invalid,omitempty"`
	ConfigError string   `json:"configError,omitempty"`
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
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		e := listEntry{
			Name: fn.Name, Kind: string(fn.Kind), Runtime: string(fn.Runtime),
			URL:    base + "/.netlify/functions/" + fn.Name,
			Source: src, Invalid: fn.Invalid, ConfigError: fn.ConfigError,
			Methods: fn.Methods, Schedule: fn.Schedule,
		}
		if len(fn.Paths) > 0 {
			// A function with custom paths answers only there.
			e.URL = base + fn.Paths[0]
			e.Routes = fn.Paths
		}
		if fn.Kind == discover.KindScheduled {
			if sch, err := schedule.Parse(fn.Schedule); err == nil {
				if t := sch.Next(time.Now()); !t.IsZero() {
					e.NextRun = t.UTC().Format(time.RFC3339)
				}
			}
		}
		entries = append(entries, e)
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
	header := []string{"NAME", "KIND", "RUNTIME", "ROUTE", "SCHEDULE", "SOURCE"}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		route := e.URL
		if len(e.Routes) > 0 {
			route = strings.Join(e.Routes, ", ")
			if len(e.Methods) > 0 {
				route = strings.Join(e.Methods, ",") + " " + route
			}
		}
		sched := "-"
		if e.Schedule != "" {
			sched = e.Schedule
			if e.NextRun != "" {
				sched += " (next " + strings.TrimSuffix(strings.Replace(e.NextRun, "T", " ", 1), "Z") + " UTC)"
			}
		}
		kind := e.Kind
		switch {
		case e.Invalid != "":
			kind += " (invalid name)"
		case e.ConfigError != "":
			kind += " (config error)"
		}
		rows = append(rows, []string{e.Name, kind, e.Runtime, route, sched, e.Source})
	}
	if opts.Streams.IsStdoutTTY() {
		st := ui.NewStyles(opts.Streams.Out, opts.Streams.ColorOut())
		t := table.New().Headers(header...).Rows(rows...).
			Border(lipgloss.RoundedBorder()).
			StyleFunc(func(row, col int) lipgloss.Style {
				s := lipgloss.NewStyle().Padding(0, 1)
				if row == table.HeaderRow && st.Color {
					return s.Bold(true)
				}
				return s
			})
		_, err := fmt.Fprintln(opts.Streams.Out, t.Render())
		return err
	}
	tw := tabwriter.NewWriter(opts.Streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func configOptions(g *globalOptions, functions string) config.Options {
	return config.Options{Dir: g.Dir, FunctionsDir: functions}
}
