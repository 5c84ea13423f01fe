// Command bench measures `bgfn dev` against a raw Node http server and a raw
// Go net/http server answering the same JSON, in the same run on the same
// machine, so the ratios mean something even where the absolute figures do
// not. Run it from the repository root:
//
//	go run ./bench            # the full suite, about 4 minutes on 2 cores
//	go run ./bench -short     # 1 s per cell, concurrency 10 only
//
// See bench/README.md for the flags and what every figure means.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit codes, as bgfn's own.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr))
}

// mainCode runs the bench with args and returns the exit code. It is the
// only place that installs signal handlers. SIGINT or SIGTERM cancels the
// run; the handler stays installed until run has returned, so a second
// Ctrl-C cannot cut the clean-up short and leave workers behind (the
// clean-up is bounded: a few seconds per process, then SIGKILL).
func mainCode(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench: "+err.Error())
		return exitUsage
	}
	cfg.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = run(ctx, cfg, stdout)
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "bench: interrupted")
		return exitInterrupted
	default:
		fmt.Fprintln(stderr, "bench: "+err.Error())
		return exitError
	}
}

// Config is everything one run of the bench needs. parseFlags fills it
// from the command line; TestSmoke builds a small one by hand.
type Config struct {
	// Root is the repository root (default: found from the working
	// directory by looking for bgfn's go.mod).
	Root string
	// Duration is how long each cell of the matrix runs (after Warmup).
	Duration time.Duration
	// Warmup runs before each cell and is not counted, so a cell measures
	// warm workers rather than the pool growing to its size.
	Warmup time.Duration
	// Concurrency lists the client concurrencies of the matrix.
	Concurrency []int
	// Workloads lists the bgfn functions of the matrix (hello-go is added
	// when Go functions answer).
	Workloads []string
	// Refs runs the raw Node and Go reference servers.
	Refs bool
	// Launches is how many fresh launches the launch → first 200 median
	// takes (0 skips it).
	Launches int
	// RSSRequests is how many requests to hello at concurrency 10 the RSS
	// growth figure sends (0 skips it).
	RSSRequests int
	// BackgroundRequests is how many POSTs the background figure sends at
	// BackgroundConcurrency (0 skips it).
	BackgroundRequests    int
	BackgroundConcurrency int
	// BigdepSize is about how many bytes of JavaScript the generated
	// node_modules/bigdep holds.
	BigdepSize int
	// Probes runs the feature probes (standalone invoke) and the reload
	// measurements below.
	Probes bool
	// ReloadEdits is how many times each of hello.js, hello-ts.ts and
	// hello-v2.mjs is edited for the reload latency figures (0 skips them).
	ReloadEdits int
	// GoReloadEdits is how many times hello-go/main.go is edited for the
	// Go rebuild figures, when hello-go answers (0 skips them).
	GoReloadEdits int
	// ReloadLoad is how long hello is loaded at concurrency 10 while
	// hello.js is edited ReloadLoadEdits times (0 skips it).
	ReloadLoad      time.Duration
	ReloadLoadEdits int
	// GoFunction adds the generated hello-go to the site, to probe Go
	// support (and measure it when there is some). Building it needs
	// aws-lambda-go from the module cache or proxy.
	GoFunction bool
	// InstanceBursts is the size of the large burst of waiting background
	// invocations (after one of 50); 0 skips the instance bursts.
	InstanceBursts int
	// ManySite measures the generated site of 40 functions.
	ManySite bool
	// Blobs measures set+get of 1 KB through bgfn's Blobs server and
	// through @netlify/blobs' own (needs npm and the registry once).
	Blobs bool
	// Out is where the JSON results go ("" writes none).
	Out string
	// Compare is an earlier results file to print deltas against.
	Compare string
	// Keep keeps the temporary folder (sites, logs) for a post-mortem.
	Keep bool
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// DefaultConfig is the full suite.
func DefaultConfig() Config {
	return Config{
		Duration:              5 * time.Second,
		Warmup:                time.Second,
		Concurrency:           []int{1, 10, 50},
		Workloads:             []string{"hello", "hello-ts", "hello-v2", "bigdep"},
		Refs:                  true,
		Launches:              5,
		RSSRequests:           100_000,
		BackgroundRequests:    10_000,
		BackgroundConcurrency: 50,
		BigdepSize:            5 << 20,
		Probes:                true,
		ReloadEdits:           10,
		GoReloadEdits:         3,
		ReloadLoad:            10 * time.Second,
		ReloadLoadEdits:       20,
		GoFunction:            true,
		InstanceBursts:        1000,
		ManySite:              true,
		Blobs:                 true,
		Out:                   "bench/results/latest.json",
	}
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench [flags]   (from the repository root)")
		fs.PrintDefaults()
	}
	short := fs.Bool("short", false, "quick run: 1s per cell and concurrency 10 only, 2 edits per reload figure, a 2s reload load run with 5 edits, no Go reload (unless those flags are given)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long each cell of the matrix runs")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "uncounted warm-up before each cell")
	conc := fs.String("c", "1,10,50", "client concurrencies of the matrix, comma-separated")
	workloads := fs.String("workloads", strings.Join(cfg.Workloads, ","), "bgfn functions of the matrix, comma-separated")
	fs.IntVar(&cfg.Launches, "launches", cfg.Launches, "fresh launches for the launch → first 200 median (0 skips)")
	fs.IntVar(&cfg.RSSRequests, "rss-requests", cfg.RSSRequests, "requests to hello for the RSS growth figure (0 skips)")
	fs.IntVar(&cfg.BackgroundRequests, "bg-requests", cfg.BackgroundRequests, "POSTs to work-background (0 skips)")
	fs.IntVar(&cfg.BackgroundConcurrency, "bg-c", cfg.BackgroundConcurrency, "concurrency of the background POSTs")
	fs.IntVar(&cfg.ReloadEdits, "reload-edits", cfg.ReloadEdits, "edits of each of hello.js, hello-ts.ts and hello-v2.mjs for the reload latency (0 skips)")
	fs.IntVar(&cfg.GoReloadEdits, "go-reload-edits", cfg.GoReloadEdits, "edits of hello-go/main.go for the Go rebuild latency (0 skips)")
	fs.DurationVar(&cfg.ReloadLoad, "reload-load", cfg.ReloadLoad, "load on hello at c10 while hello.js is edited (0 skips)")
	fs.IntVar(&cfg.ReloadLoadEdits, "reload-load-edits", cfg.ReloadLoadEdits, "edits of hello.js during the -reload-load run")
	fs.BoolVar(&cfg.GoFunction, "go-function", cfg.GoFunction, "add the generated hello-go function (needs aws-lambda-go from the module cache or proxy)")
	fs.IntVar(&cfg.InstanceBursts, "instance-bursts", cfg.InstanceBursts, "size of the large burst of 2 s background invocations, after one of 50 (0 skips the bursts)")
	fs.BoolVar(&cfg.ManySite, "many-site", cfg.ManySite, "measure the generated site of 40 functions")
	fs.BoolVar(&cfg.Blobs, "blobs", cfg.Blobs, "measure Blobs set+get against bgfn's server and @netlify/blobs' own (npm ci of testdata/sites/blobs once)")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "results file, relative to the repository root (empty: none)")
	fs.StringVar(&cfg.Compare, "compare", "", "earlier results file to print deltas against")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary folder (sites, bgfn logs)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *short {
		if !set["duration"] {
			cfg.Duration = time.Second
		}
		if !set["warmup"] {
			cfg.Warmup = 200 * time.Millisecond
		}
		if !set["c"] {
			*conc = "10"
		}
		if !set["reload-edits"] {
			cfg.ReloadEdits = 2
		}
		if !set["go-reload-edits"] {
			cfg.GoReloadEdits = 0
		}
		if !set["reload-load"] {
			cfg.ReloadLoad = 2 * time.Second
		}
		if !set["reload-load-edits"] {
			cfg.ReloadLoadEdits = 5
		}
	}
	var err error
	if cfg.Concurrency, err = parseInts(*conc); err != nil {
		return cfg, fmt.Errorf("-c: %w", err)
	}
	cfg.Workloads = splitList(*workloads)
	if cfg.Duration <= 0 || cfg.Warmup < 0 {
		return cfg, errors.New("-duration must be positive and -warmup not negative")
	}
	if cfg.ReloadEdits < 0 || cfg.GoReloadEdits < 0 || cfg.ReloadLoad < 0 || cfg.ReloadLoadEdits < 0 {
		return cfg, errors.New("-reload-edits, -go-reload-edits, -reload-load and -reload-load-edits must not be negative")
	}
	if cfg.BackgroundConcurrency < 1 {
		return cfg, errors.New("-bg-c must be at least 1")
	}
	return cfg, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
