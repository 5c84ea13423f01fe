package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole harness with tiny durations and counts, so `go
// test ./...` builds bgfn, starts it and both references, and goes through
// every measurement: the bench cannot rot unnoticed. It checks the run
// worked, not the figures.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bgfn and Node; skipped with -short")
	}
	if goruntime.GOOS != "linux" {
		t.Skip("the bench reads /proc")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	out := filepath.Join(t.TempDir(), "results.json")
	cfg := Config{
		Duration:              200 * time.Millisecond,
		Warmup:                50 * time.Millisecond,
		Concurrency:           []int{1, 10},
		Workloads:             []string{"hello"},
		Refs:                  true,
		Launches:              1,
		RSSRequests:           200,
		BackgroundRequests:    200,
		BackgroundConcurrency: 50,
		BigdepSize:            256 << 10, // the path, not the 5 MB build time
		Probes:                true,
		ReloadEdits:           2,
		ReloadLoad:            2 * time.Second,
		ReloadLoadEdits:       5,
		InstanceBursts:        60,
		Blobs:                 true,
		Out:                   out,
	}
	var stdout, progress bytes.Buffer
	cfg.Progress = &progress
	// About 15 s on a quiet 2-core machine; the deadline only stops a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if err := run(ctx, cfg, &stdout); err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("smoke run took %s\n%s", time.Since(start).Round(time.Millisecond), stdout.String())

	for _, want := range []string{"THROUGHPUT AND LATENCY", "OTHER FIGURES", "FINDINGS", "launch → first 200", "idle RSS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table has no %q", want)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("results file: %v", err)
	}
	if r.Machine.Cores == 0 || r.Machine.Go == "" || r.Machine.Node == "" {
		t.Errorf("machine info incomplete: %+v", r.Machine)
	}
	// go, node and bgfn hello at c1 and c10.
	if len(r.Cells) != 6 {
		t.Fatalf("got %d cells, want 6: %+v", len(r.Cells), r.Cells)
	}
	if f, _ := r.figure("go function"); f.NA != "skipped" {
		t.Errorf("go function probe ran in the smoke test: %+v", f)
	}
	for _, c := range r.Cells {
		if c.Requests == 0 || c.RPS <= 0 || c.P50ms <= 0 {
			t.Errorf("%s %s c%d measured nothing: %+v", c.Server, c.Workload, c.Concurrency, c)
		}
		if c.Errors > 0 {
			t.Errorf("%s %s c%d: %d errors (first: %s)", c.Server, c.Workload, c.Concurrency, c.Errors, c.FirstError)
		}
		if c.Server == "bgfn" && (c.VsNode <= 0 || c.VsGo <= 0) {
			t.Errorf("bgfn c%d has no ratios: %+v", c.Concurrency, c)
		}
	}
	// Every figure is either measured or says why not.
	for _, f := range r.Figures {
		if f.Value == nil && f.NA == "" {
			t.Errorf("figure %q has neither a value nor a reason", f.Name)
		}
	}
	for _, name := range []string{"launch → first 200", "idle RSS, bgfn + workers", "background not 202", "workers left behind", "blobs set+get 1 KB, v2 c10: bgfn ÷ netlify's server"} {
		f, ok := r.figure(name)
		if !ok || f.Value == nil {
			t.Errorf("figure %q missing or n/a: %+v", name, f)
		}
	}
	if f, _ := r.figure("background not 202"); f.Value != nil && *f.Value != 0 {
		t.Errorf("background POSTs not answered 202: %v", *f.Value)
	}
	for _, c := range reloadCases {
		f, ok := r.figure(reloadFigure(c.file))
		if !ok || f.Value == nil || len(f.Samples) != cfg.ReloadEdits {
			t.Errorf("reload figure of %s missing, n/a or without %d samples: %+v", c.file, cfg.ReloadEdits, f)
		}
	}
	if f, _ := r.figure(figGoReload); f.NA == "" {
		t.Errorf("go reload ran in the smoke test: %+v", f)
	}
	for _, name := range []string{figLoadRequests, figLoadNot2xx, figLoadTransport, figLoadBodies, figLoadLatency} {
		if f, ok := r.figure(name); !ok || f.Value == nil {
			t.Errorf("figure %q missing or n/a: %+v", name, f)
		}
	}
	// Not an error: answers other than 2xx while a function is reloaded
	// are bgfn's to fix (the run reports them as findings); the smoke test
	// checks the bench, and must not fail whenever bgfn's race is lost.
	for _, name := range []string{figLoadNot2xx, figLoadTransport} {
		if f, _ := r.figure(name); f.Value != nil && *f.Value != 0 {
			t.Logf("bgfn: %s: %v (%s)", name, *f.Value, f.Detail)
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		// Not an error: a busy machine (go test ./... runs packages in
		// parallel) can slow it down; the figure to keep an eye on.
		t.Logf("smoke run took %s, over its 30s budget", d.Round(time.Millisecond))
	}
}

// TestCompare checks the deltas table on two hand-made result sets.
func TestCompare(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	old := &Results{Figures: []Figure{
		{Name: "bgfn hello c10 req/s", Value: v(1000), Unit: "req/s", Better: "higher"},
		{Name: "bgfn hello c10 p99", Value: v(10), Unit: "ms", Better: "lower"},
		{Name: "standalone invoke", NA: "no invoke command"},
		{Name: "reload: edit → new body", Value: v(100), Unit: "ms", Better: "lower"},
	}}
	cur := &Results{Figures: []Figure{
		{Name: "bgfn hello c10 req/s", Value: v(1200), Unit: "req/s", Better: "higher"},
		{Name: "bgfn hello c10 p99", Value: v(12), Unit: "ms", Better: "lower"},
		{Name: "standalone invoke", Value: v(150), Unit: "ms", Better: "lower"},
		{Name: "reload hello.js: edit → new body", Value: v(50), Unit: "ms", Better: "lower"},
		{Name: "reload hello-ts.ts: edit → new body", Value: v(40), Unit: "ms", Better: "lower"},
	}}
	var buf bytes.Buffer
	printCompare(&buf, old, cur)
	got := buf.String()
	for _, want := range []string{
		"+20.0%  better", "+20.0%  worse", // by direction
		"n/a       150 ms            new",       // measured now, n/a before
		"100 ms        50 ms    -50.0%  better", // matched by its former name
		"-        40 ms            not in the old run",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("compare output has no %q:\n%s", want, got)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		duration time.Duration
		conc     []int
		// reload edits per function, Go reload edits, reload load run
		// and its edits
		reload     [2]int
		reloadLoad time.Duration
		loadEdits  int
		wantErr    bool
	}{
		{"defaults", nil, 5 * time.Second, []int{1, 10, 50}, [2]int{10, 3}, 10 * time.Second, 20, false},
		{"short", []string{"-short"}, time.Second, []int{10}, [2]int{2, 0}, 2 * time.Second, 5, false},
		{"short keeps an explicit duration", []string{"-short", "-duration", "2s", "-reload-load", "3s", "-go-reload-edits", "1"}, 2 * time.Second, []int{10}, [2]int{2, 1}, 3 * time.Second, 5, false},
		{"concurrency list", []string{"-c", "2,4"}, 5 * time.Second, []int{2, 4}, [2]int{10, 3}, 10 * time.Second, 20, false},
		{"bad concurrency", []string{"-c", "0"}, 0, nil, [2]int{}, 0, 0, true},
		{"negative reload edits", []string{"-reload-edits", "-1"}, 0, nil, [2]int{}, 0, 0, true},
		{"stray argument", []string{"extra"}, 0, nil, [2]int{}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, &bytes.Buffer{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if cfg.Duration != tt.duration {
				t.Errorf("duration = %s, want %s", cfg.Duration, tt.duration)
			}
			if got := [2]int{cfg.ReloadEdits, cfg.GoReloadEdits}; got != tt.reload || cfg.ReloadLoad != tt.reloadLoad || cfg.ReloadLoadEdits != tt.loadEdits {
				t.Errorf("reload edits, go reload edits = %v, reload load %s with %d edits; want %v, %s with %d",
					got, cfg.ReloadLoad, cfg.ReloadLoadEdits, tt.reload, tt.reloadLoad, tt.loadEdits)
			}
			if len(cfg.Concurrency) != len(tt.conc) {
				t.Fatalf("concurrency = %v, want %v", cfg.Concurrency, tt.conc)
			}
			for i := range tt.conc {
				if cfg.Concurrency[i] != tt.conc[i] {
					t.Errorf("concurrency = %v, want %v", cfg.Concurrency, tt.conc)
				}
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, as /proc allows.
	line := "4242 (node (worker) x) S 4200 4242 4200 0 -1 4194560 100 0 0 0 150 25 3 4 20 0 11 0 987654 1000000 2000 18446744073709551615"
	st, err := parseStat(4242, line)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, state: "S", ppid: 4200, pgid: 4242, utime: 150, stime: 25, cutime: 3, cstime: 4, start: 987654}
	if st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
}
