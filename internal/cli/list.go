package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/events"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/schedule"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// ListOptions are the flags of `bgfn list`.
type ListOptions struct {
	Factory   *Factory
	Functions string
	JSON      bool
	Port      int
}

// NewCmdList builds `bgfn list`.
func NewCmdList(f *Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{Factory: f}
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
	Events      []string `json:"events,omitempty"`
	NextRun     string   `json:"nextRun,omitempty"`
	Source      string   `json:"source"`
	Invalid     string   `json:"invalid,omitempty"`
	ConfigError string   `json:"configError,omitempty"`
}

func runList(_ context.Context, opts *ListOptions) error {
	streams := opts.Factory.IOStreams
	s, err := site.Load(opts.Factory.ConfigOptions(opts.Functions))
	if err != nil {
		return err
	}
	for _, w := range s.Warnings {
		fmt.Fprintln(streams.ErrOut, "warning: "+w)
	}
	port := opts.Port
	if port == 0 {
		port = s.Config.Port
	}
	if port == 0 {
		port = apiclient.DefaultPort
	}
	entries := listEntries(s, "http://127.0.0.1:"+strconv.Itoa(port), time.Now())
	if opts.JSON {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(streams.ErrOut, "no functions found in %s\n", s.Config.FunctionsDir)
		return nil
	}
	header, rows := listRows(entries)
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

// listEntries describes each function for a server at base.
func listEntries(s *site.Site, base string, now time.Time) []listEntry {
	entries := make([]listEntry, 0, len(s.Functions))
	for _, fn := range s.Functions {
		e := listEntry{
			Name: fn.Name, Kind: string(fn.Kind), Runtime: string(fn.Runtime),
			URL:    base + "/.netlify/functions/" + fn.Name,
			Source: s.Rel(s.EntryPath(fn)), Invalid: fn.Invalid, ConfigError: fn.ConfigError,
			Methods: fn.Methods, Schedule: fn.Schedule, Events: events.Handled(fn),
		}
		if len(fn.Paths) > 0 {
			// A function with custom paths answers only there.
			e.URL = base + fn.Paths[0]
			e.Routes = fn.Paths
		}
		if fn.Kind == discover.KindScheduled {
			if sch, err := schedule.Parse(fn.Schedule); err == nil {
				if t := sch.Next(now); !t.IsZero() {
					e.NextRun = t.UTC().Format(time.RFC3339)
				}
			}
		}
		entries = append(entries, e)
	}
	return entries
}

// listRows lays the entries out as a table.
func listRows(entries []listEntry) ([]string, [][]string) {
	header := []string{"NAME", "KIND", "RUNTIME", "ROUTE", "SCHEDULE", "EVENTS", "SOURCE"}
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
		evs := "-"
		switch n := len(e.Events); {
		case n > 3:
			// All twelve would fill the line; --json has them.
			evs = strings.Join(e.Events[:2], ",") + " +" + strconv.Itoa(n-2) + " more"
		case n > 0:
			evs = strings.Join(e.Events, ",")
		}
		rows = append(rows, []string{e.Name, kind, e.Runtime, route, sched, evs, e.Source})
	}
	return header, rows
}
