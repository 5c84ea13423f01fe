package main

import (
	"fmt"
	"strconv"
)

// groupTargets holds issue 19's targets, computed at the end of the run
// from figures the same run measured: ratios of two cells of the matrix,
// reload medians, the Go reload over its build, the background accept
// rate and p99.
const groupTargets = "targets"

// Issue 19's limits.
const (
	targetGoOverHello   = 0.6   // bgfn hello-go c10 ÷ bgfn hello c10
	targetV2OverHello   = 0.8   // bgfn hello-v2 c10 ÷ bgfn hello c10
	targetReloadJSms    = 18    // hello.js edit → new body, median
	targetReloadTSms    = 25    // hello-ts.ts
	targetReloadV2ms    = 30    // hello-v2.mjs
	targetGoOverBuildMs = 50    // go reload − fresh-edit go build
	targetAcceptRPS     = 25000 // background accept rate at c50
	targetAcceptP99ms   = 5     // background accept p99
)

// targetConcurrency is the matrix concurrency the throughput targets are
// held at.
const targetConcurrency = 10

// addTargets adds issue 19's targets to r, each beside its figure and
// marked met or MISSED, or n/a when the run did not measure what it needs.
func addTargets(r *Results) {
	const g = groupTargets
	c := strconv.Itoa(targetConcurrency)
	rps := func(workload string) (Cell, bool) {
		for _, cell := range r.Cells {
			if cell.Server == "bgfn" && cell.Workload == workload && cell.Concurrency == targetConcurrency {
				return cell, cell.RPS > 0
			}
		}
		return Cell{}, false
	}
	ratio := func(name, workload string, limit float64) {
		num, okNum := rps(workload)
		den, okDen := rps("hello")
		switch {
		case !okDen:
			r.na(g, name, "no bgfn hello c"+c+" in this run (-workloads, -c)")
		case !okNum:
			r.na(g, name, "no bgfn "+workload+" c"+c+" in this run")
		default:
			r.addTarget(g, name, num.RPS/den.RPS, "x", "higher", limit,
				fmt.Sprintf("%.0f ÷ %.0f req/s, p50 %.2f vs %.2f ms", num.RPS, den.RPS, num.P50ms, den.P50ms))
		}
	}
	ratio("Go hello c"+c+" ÷ v1 hello c"+c, "hello-go", targetGoOverHello)
	ratio("v2 hello c"+c+" ÷ v1 hello c"+c, "hello-v2", targetV2OverHello)

	from := func(name, figure, unit, better string, limit float64) {
		f, ok := r.figure(figure)
		switch {
		case !ok:
			r.na(g, name, figure+": not measured in this run")
		case f.Value == nil:
			r.na(g, name, figure+": "+f.NA)
		default:
			r.addTarget(g, name, *f.Value, unit, better, limit, figure)
		}
	}
	from("JS reload, edit → new body", reloadFigure("hello.js"), "ms", "lower", targetReloadJSms)
	from("TS reload, edit → new body", reloadFigure("hello-ts.ts"), "ms", "lower", targetReloadTSms)
	from("v2 reload, edit → new body", reloadFigure("hello-v2.mjs"), "ms", "lower", targetReloadV2ms)
	from("Go reload − go build", figGoOverBuild, "ms", "lower", targetGoOverBuildMs)
	from("background accept rate, c50", "background accept rate", "req/s", "higher", targetAcceptRPS)
	from("background accept p99, c50", "background accept p99", "ms", "lower", targetAcceptP99ms)
}
