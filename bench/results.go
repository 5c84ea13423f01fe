package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Results is everything one run measured; it is what latest.json holds.
type Results struct {
	Machine Machine `json:"machine"`
	Config  RunInfo `json:"config"`
	// Cells is the throughput and latency matrix.
	Cells []Cell `json:"cells"`
	// Figures is every figure by name, the matrix included: -compare
	// matches old and new figures by name.
	Figures []Figure `json:"figures"`
	// Findings are what looked wrong in bgfn during the run (errors under
	// load, memory growth, processes left behind...).
	Findings []string `json:"findings"`
}

// Machine says where and on what the figures were taken.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	OS     string `json:"os"`
	Go     string `json:"go"`
	Node   string `json:"node"`
	Commit string `json:"bgfn_commit"`
	Dirty  bool   `json:"bgfn_dirty"`
	Date   string `json:"date"`
	// LoadStart is /proc/loadavg's 1-minute figure before the run.
	LoadStart float64 `json:"load_start"`
	// OtherCPU is the share of the machine's CPU that processes other than
	// the bench and its children used during the run: well over 0, and the
	// figures are noisy.
	OtherCPU float64 `json:"other_cpu_percent"`
}

// RunInfo is the part of the Config that shaped the figures.
type RunInfo struct {
	CellSeconds           float64  `json:"cell_seconds"`
	WarmupSeconds         float64  `json:"warmup_seconds"`
	Concurrency           []int    `json:"concurrency"`
	Workloads             []string `json:"workloads"`
	Launches              int      `json:"launches"`
	RSSRequests           int      `json:"rss_requests"`
	BackgroundRequests    int      `json:"background_requests"`
	BackgroundConcurrency int      `json:"background_concurrency"`
	BigdepBytes           int      `json:"bigdep_bytes"`
	ReloadEdits           int      `json:"reload_edits"`
	GoReloadEdits         int      `json:"go_reload_edits"`
	ReloadLoadSeconds     float64  `json:"reload_load_seconds"`
	ReloadLoadEdits       int      `json:"reload_load_edits"`
	Seconds               float64  `json:"total_seconds"`
}

// Cell is one server × workload × concurrency of the matrix.
type Cell struct {
	Server      string  `json:"server"`   // bgfn, node or go
	Workload    string  `json:"workload"` // the function, or "raw" for the references
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	FirstError  string  `json:"first_error,omitempty"`
	// RPS divided by the raw server's at the same concurrency (bgfn only).
	VsNode float64 `json:"rps_vs_node,omitempty"`
	VsGo   float64 `json:"rps_vs_go,omitempty"`
	// CPU time per request of the server process and of its workers
	// (bgfn and node only: the Go reference shares the bench's process).
	ServerCPUus float64 `json:"server_cpu_us_per_req,omitempty"`
	WorkerCPUus float64 `json:"worker_cpu_us_per_req,omitempty"`
}

// Figure is one named measurement. Value is nil when it could not be
// taken; NA says why.
type Figure struct {
	Name   string   `json:"name"`
	Group  string   `json:"group"`
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	Better string   `json:"better,omitempty"` // "higher" or "lower"
	NA     string   `json:"na,omitempty"`
	Detail string   `json:"detail,omitempty"`
	// Samples are the measurements a median was taken over, in Unit, in
	// the order they were taken.
	Samples []float64 `json:"samples,omitempty"`
}

// Figure groups, in the order the table prints them.
const (
	groupMatrix     = "matrix"
	groupLaunch     = "launch"
	groupMemory     = "memory"
	groupBackground = "background"
	groupFeatures   = "features"
	groupReload     = "reload"
	groupShutdown   = "shutdown"
	groupInstances  = "instances"
)

var groupOrder = []string{groupLaunch, groupMemory, groupBackground, groupInstances, groupFeatures, groupReload, groupShutdown}

func (r *Results) add(group, name string, v float64, unit, better, detail string) {
	r.Figures = append(r.Figures, Figure{Name: name, Group: group, Value: &v, Unit: unit, Better: better, Detail: detail})
}

// addMedian adds the median of ds in ms, keeping every sample.
func (r *Results) addMedian(group, name string, ds []time.Duration, detail string) {
	r.add(group, name, ms(median(ds)), "ms", "lower", detail)
	f := &r.Figures[len(r.Figures)-1]
	for _, d := range ds {
		f.Samples = append(f.Samples, ms(d))
	}
}

// addTarget adds a figure with the target it is held to: the detail says
// the target and whether it was met, and a missed one is a finding.
func (r *Results) addTarget(group, name string, v float64, unit, better string, limit float64, detail string) {
	met := v <= limit
	cmp := "≤"
	if better == "higher" {
		met, cmp = v >= limit, "≥"
	}
	verdict := "met"
	if !met {
		verdict = "MISSED"
		r.finding("%s: %.1f %s, target %s %g %s", name, v, unit, cmp, limit, unit)
	}
	t := fmt.Sprintf("target %s %g %s: %s", cmp, limit, unit, verdict)
	if detail != "" {
		t += "; " + detail
	}
	r.add(group, name, v, unit, better, t)
}

func (r *Results) na(group, name, reason string) {
	r.Figures = append(r.Figures, Figure{Name: name, Group: group, NA: reason})
}

func (r *Results) finding(format string, args ...any) {
	r.Findings = append(r.Findings, fmt.Sprintf(format, args...))
}

func (r *Results) figure(name string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

func writeResults(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func readResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results to compare: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results to compare: %s: %w", path, err)
	}
	return &r, nil
}
