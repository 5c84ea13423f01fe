package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// printTable writes the results as fixed-width text: the machine, the
// matrix, the other figures by group, and the findings.
func printTable(w io.Writer, r *Results) {
	m := r.Machine
	dirty := ""
	if m.Dirty {
		dirty = " (uncommitted changes)"
	}
	fmt.Fprintf(w, "bgfn bench · %s · bgfn %s%s\n", m.Date, orDash(m.Commit), dirty)
	fmt.Fprintf(w, "%s · %d cores · %s · %s · node %s\n", orDash(m.CPU), m.Cores, m.OS, m.Go, orDash(m.Node))
	fmt.Fprintf(w, "load average %.1f before the run; other processes used %.0f%% of the CPU during it\n", m.LoadStart, m.OtherCPU)
	fmt.Fprintf(w, "%.3gs per cell after %.3gs warm-up; load generator, servers and workers share the machine\n\n",
		r.Config.CellSeconds, r.Config.WarmupSeconds)

	if len(r.Cells) > 0 {
		fmt.Fprintln(w, "THROUGHPUT AND LATENCY (GET, keep-alive; ÷node and ÷go: bgfn req/s over the raw server's at the same c)")
		fmt.Fprintf(w, "%-6s %-10s %3s %9s %8s %8s %8s %7s %6s %6s  %s\n",
			"server", "workload", "c", "requests", "req/s", "p50 ms", "p99 ms", "errors", "÷node", "÷go", "cpu µs/req server+workers")
		fmt.Fprintln(w, strings.Repeat("-", 110))
		lastC := 0
		for _, c := range r.Cells {
			if lastC != 0 && c.Concurrency != lastC {
				fmt.Fprintln(w)
			}
			lastC = c.Concurrency
			cpu := "-"
			if c.ServerCPUus > 0 || c.WorkerCPUus > 0 {
				cpu = fmt.Sprintf("%.0f+%.0f", c.ServerCPUus, c.WorkerCPUus)
			}
			fmt.Fprintf(w, "%-6s %-10s %3d %9d %8.0f %8.2f %8.2f %7d %6s %6s  %s\n",
				c.Server, c.Workload, c.Concurrency, c.Requests, c.RPS, c.P50ms, c.P99ms, c.Errors,
				ratio(c.VsNode), ratio(c.VsGo), cpu)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "OTHER FIGURES")
	fmt.Fprintf(w, "%-36s %14s  %s\n", "figure", "value", "detail")
	fmt.Fprintln(w, strings.Repeat("-", 110))
	for _, g := range groupOrder {
		for _, f := range r.Figures {
			if f.Group != g {
				continue
			}
			if f.Value == nil {
				fmt.Fprintf(w, "%-36s %14s  %s\n", f.Name, "n/a", f.NA)
				continue
			}
			fmt.Fprintf(w, "%-36s %14s  %s\n", f.Name, value(f), f.Detail)
		}
	}
	fmt.Fprintln(w)
	printTargets(w, r)
	fmt.Fprintln(w, "FINDINGS")
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "  none: no errors, no growth over 10%, no process left behind")
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w, "  - "+f)
	}
}

// printTargets writes issue 19's targets, each beside its figure from
// this run and marked met or MISSED (see addTargets).
func printTargets(w io.Writer, r *Results) {
	first := true
	for _, f := range r.Figures {
		if f.Group != groupTargets {
			continue
		}
		if first {
			fmt.Fprintln(w, "TARGETS (issue 19; computed from this run's figures)")
			fmt.Fprintf(w, "%-36s %14s  %s\n", "target", "value", "verdict; from")
			fmt.Fprintln(w, strings.Repeat("-", 110))
			first = false
		}
		if f.Value == nil {
			fmt.Fprintf(w, "%-36s %14s  %s\n", f.Name, "n/a", f.NA)
			continue
		}
		fmt.Fprintf(w, "%-36s %14s  %s\n", f.Name, value(f), f.Detail)
	}
	if !first {
		fmt.Fprintln(w)
	}
}

// printCompare writes, per figure present in both runs, the old and new
// values and the change, marked better or worse by the figure's direction.
func printCompare(w io.Writer, old, cur *Results) {
	fmt.Fprintf(w, "\nCOMPARED WITH bgfn %s of %s (%s)\n", orDash(old.Machine.Commit), old.Machine.Date, orDash(old.Machine.CPU))
	if old.Machine.CPU != cur.Machine.CPU || old.Machine.Cores != cur.Machine.Cores {
		fmt.Fprintln(w, "  note: another machine; compare the ratios, not the absolute figures")
	}
	if old.Machine.OtherCPU > 10 || cur.Machine.OtherCPU > 10 {
		fmt.Fprintf(w, "  note: other processes took %.0f%% (old) and %.0f%% (new) of the CPU: small changes are noise\n",
			old.Machine.OtherCPU, cur.Machine.OtherCPU)
	}
	fmt.Fprintf(w, "%-40s %12s %12s %9s  %s\n", "figure", "old", "new", "change", "")
	fmt.Fprintln(w, strings.Repeat("-", 90))
	for _, f := range cur.Figures {
		o, ok := old.figure(f.Name)
		if prev, renamed := formerNames[f.Name]; !ok && renamed {
			o, ok = old.figure(prev)
		}
		if !ok {
			if f.Value != nil {
				fmt.Fprintf(w, "%-40s %12s %12s %9s  %s\n", f.Name, "-", value(f), "", "not in the old run")
			}
			continue
		}
		switch {
		case o.Value == nil && f.Value == nil:
			continue
		case o.Value == nil:
			fmt.Fprintf(w, "%-40s %12s %12s %9s  %s\n", f.Name, "n/a", value(f), "", "new")
			continue
		case f.Value == nil:
			fmt.Fprintf(w, "%-40s %12s %12s %9s  %s\n", f.Name, value(o), "n/a", "", "gone: "+f.NA)
			continue
		}
		ov, nv := *o.Value, *f.Value
		change, verdict := "", ""
		switch {
		case ov == nv:
			change = "="
		case ov == 0:
			change = fmt.Sprintf("%+.3g", nv-ov)
		default:
			pct := (nv - ov) / math.Abs(ov) * 100
			change = fmt.Sprintf("%+.1f%%", pct)
			if math.Abs(pct) >= 5 {
				verdict = judge(f.Better, nv > ov)
			}
		}
		if ov == 0 && nv != 0 {
			verdict = judge(f.Better, nv > ov)
		}
		fmt.Fprintf(w, "%-40s %12s %12s %9s  %s\n", f.Name, value(o), value(f), change, verdict)
	}
}

// formerNames maps a figure to the name an earlier bench gave the same
// measurement, so -compare can match results files from before the rename.
var formerNames = map[string]string{
	// A single edit polled every 10 ms, before the median of -reload-edits.
	"reload hello.js: edit → new body": "reload: edit → new body",
}

func judge(better string, up bool) string {
	switch {
	case better == "":
		return ""
	case (better == "higher") == up:
		return "better"
	default:
		return "worse"
	}
}

// value formats a figure with its unit.
func value(f Figure) string {
	if f.Value == nil {
		return "n/a"
	}
	v := *f.Value
	switch f.Unit {
	case "ms":
		if v < 10 {
			return fmt.Sprintf("%.2f ms", v)
		}
		return fmt.Sprintf("%.0f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "MB":
		return fmt.Sprintf("%.1f MB", v)
	case "%":
		return fmt.Sprintf("%+.1f%%", v)
	case "x":
		return fmt.Sprintf("%.2fx", v)
	case "req/s":
		return fmt.Sprintf("%.0f req/s", v)
	case "ok":
		return "ok"
	case "count":
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.0f %s", v, f.Unit)
	}
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
