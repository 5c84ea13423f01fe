package main

import (
	"strings"
	"testing"
)

// TestAddTargets checks each issue-19 target is computed from the run's
// own figures and marked met, MISSED or n/a.
func TestAddTargets(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	cells := []Cell{
		{Server: "bgfn", Workload: "hello", Concurrency: 10, RPS: 20000},
		{Server: "bgfn", Workload: "hello-go", Concurrency: 10, RPS: 13000},
		{Server: "bgfn", Workload: "hello-v2", Concurrency: 10, RPS: 10000},
		{Server: "bgfn", Workload: "hello", Concurrency: 50, RPS: 99999},
	}
	figs := []Figure{
		{Name: reloadFigure("hello.js"), Value: v(17)},
		{Name: reloadFigure("hello-ts.ts"), Value: v(26)},
		{Name: reloadFigure("hello-v2.mjs"), NA: "skipped (-reload-edits 0)"},
		{Name: "background accept rate", Value: v(30000)},
		{Name: "background accept p99", Value: v(5)},
	}
	tests := []struct {
		name, want string
	}{
		{"Go hello c10 ÷ v1 hello c10", "0.65x target ≥ 0.6 x: met"},
		{"v2 hello c10 ÷ v1 hello c10", "0.50x target ≥ 0.8 x: MISSED"},
		{"JS reload, edit → new body", "17 ms target ≤ 18 ms: met"},
		{"TS reload, edit → new body", "26 ms target ≤ 25 ms: MISSED"},
		{"v2 reload, edit → new body", "n/a " + reloadFigure("hello-v2.mjs") + ": skipped (-reload-edits 0)"},
		{"Go reload − go build", "n/a " + figGoOverBuild + ": not measured in this run"},
		{"background accept rate, c50", "30000 req/s target ≥ 25000 req/s: met"},
		{"background accept p99, c50", "5.00 ms target ≤ 5 ms: met"},
	}
	r := &Results{Cells: cells, Figures: figs}
	addTargets(r)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *Figure
			for i := range r.Figures {
				if r.Figures[i].Group == groupTargets && r.Figures[i].Name == tt.name {
					f = &r.Figures[i]
				}
			}
			if f == nil {
				t.Fatalf("no target %q", tt.name)
			}
			got := "n/a " + f.NA
			if f.Value != nil {
				got = value(*f) + " " + f.Detail
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want it to start with %q", got, tt.want)
			}
		})
	}
	if n := len(r.Findings); n != 2 {
		t.Errorf("got %d findings, want 2 (the missed ones): %q", n, r.Findings)
	}
	// Without hello at c10 the ratios cannot be taken.
	r = &Results{Cells: cells[1:]}
	addTargets(r)
	if f, _ := r.figure("Go hello c10 ÷ v1 hello c10"); f.Value != nil || !strings.Contains(f.NA, "no bgfn hello c10") {
		t.Errorf("without hello c10: %+v", f)
	}
}
