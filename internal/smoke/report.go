package smoke

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

// Reporter hears of each case as it starts and as it ends. The runner
// serialises the calls.
type Reporter interface {
	Start(c *Case)
	Finish(r *Result)
}

// Reporters reports to each of its reporters in turn.
type Reporters []Reporter

// Start implements Reporter.
func (rs Reporters) Start(c *Case) {
	for _, r := range rs {
		r.Start(c)
	}
}

// Finish implements Reporter.
func (rs Reporters) Finish(res *Result) {
	for _, r := range rs {
		r.Finish(res)
	}
}

// detail is a line that explains a failed case: plain (' '), expected
// ('-'), got ('+') or quiet ('.'), indented by depth.
type detail struct {
	kind  byte
	depth int
	text  string
}

// Limits on what a failed case shows of its answer and its log.
const (
	maxBodyLines = 20
	maxBodyBytes = 2 << 10
	maxLogLines  = 50
)

// explain lists what a failed, errored or skipped case shows: its failures
// (a diff for bodies), the answer it got, and with logs the invocation's
// log lines.
func explain(r *Result, logs bool) []detail {
	var out []detail
	if r.Err != nil {
		out = append(out, detail{' ', 0, "error: " + r.Err.Error()})
	}
	diffed := false
	for _, f := range r.Failures {
		out = append(out, detail{' ', 0, f.String()})
		if f.Diff {
			diffed = true
			out = append(out, detail{'-', 1, "--- expected"}, detail{'+', 1, "+++ got"})
			for _, l := range lineDiff(f.Want, f.Got) {
				kind := l.op
				if kind == ' ' || kind == '~' {
					kind = '.'
				}
				out = append(out, detail{kind, 1, string(l.op) + l.text})
			}
		}
	}
	if r.Outcome != Skipped && r.Status != 0 && len(r.Body) > 0 && !diffed {
		out = append(out, detail{' ', 0, "answer: " + statusText(r.Status)})
		for _, l := range bodyLines(r.Body) {
			out = append(out, detail{'.', 1, l})
		}
	}
	if logs && r.Record != nil {
		if lines := logLines(r.Record); len(lines) > 0 {
			out = append(out, detail{' ', 0, "logs:"})
			for _, l := range lines {
				out = append(out, detail{'.', 1, l})
			}
		}
	}
	return out
}

// bodyLines is the start of a body, for showing.
func bodyLines(b []byte) []string {
	if !utf8.Valid(b) {
		return []string{fmt.Sprintf("(%d bytes of binary data)", len(b))}
	}
	s := string(b)
	more := ""
	if len(s) > maxBodyBytes {
		cut := maxBodyBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, more = s[:cut], fmt.Sprintf("… (%d bytes in all)", len(b))
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) > maxBodyLines {
		lines, more = lines[:maxBodyLines], fmt.Sprintf("… (%d bytes in all)", len(b))
	}
	if more != "" {
		lines = append(lines, more)
	}
	return lines
}

// logLines are the last lines of an invocation's log, each prefixed with
// its attempt when there can be several.
func logLines(rec *Record) []string {
	logs := rec.Logs
	var out []string
	if n := len(logs) - maxLogLines; n > 0 {
		out = append(out, fmt.Sprintf("… %d earlier lines", n))
		logs = logs[n:]
	}
	for _, l := range logs {
		if rec.MaxAttempts > 1 {
			out = append(out, fmt.Sprintf("attempt %d | %s", l.Attempt, l.Line))
		} else {
			out = append(out, "| "+l.Line)
		}
	}
	return out
}

// Human reports to people, on stderr: a line per case as it ends, the
// details of failures, and a summary. On a terminal the lines have marks
// and colour, and a status line at the bottom names the cases running;
// otherwise the text is plain, one line per event, for CI logs.
type Human struct {
	w    io.Writer
	st   *ui.Styles
	tty  bool
	live bool

	total   int
	done    int
	running []*Case
	shown   bool // the status line is on screen
}

// NewHuman returns a reporter for total cases. tty selects the terminal
// form; live turns its status line on.
func NewHuman(w io.Writer, st *ui.Styles, tty, live bool, total int) *Human {
	return &Human{w: w, st: st, tty: tty, live: tty && live, total: total}
}

// Start implements Reporter.
func (h *Human) Start(c *Case) {
	h.running = append(h.running, c)
	h.status()
}

// Finish implements Reporter.
func (h *Human) Finish(r *Result) {
	for i, c := range h.running {
		if c == r.Case {
			h.running = append(h.running[:i], h.running[i+1:]...)
			break
		}
	}
	h.done++
	h.clear()
	var b strings.Builder
	h.caseLine(&b, r)
	if r.Outcome == Failed || r.Outcome == Errored {
		for _, d := range explain(r, true) {
			b.WriteString(strings.Repeat("  ", 2+d.depth))
			b.WriteString(h.detailText(d))
			b.WriteByte('\n')
		}
	}
	io.WriteString(h.w, b.String())
	h.status()
}

func (h *Human) detailText(d detail) string {
	st := h.st
	switch d.kind {
	case '-':
		return st.Render(st.Failure, d.text)
	case '+':
		return st.Render(st.Success, d.text)
	case '.':
		return st.Render(st.Dim, d.text)
	}
	return d.text
}

func (h *Human) caseLine(b *strings.Builder, r *Result) {
	st := h.st
	where := r.Case.File + ":" + strconv.Itoa(r.Case.Line)
	took := fmtDuration(r.Duration)
	if !h.tty {
		switch r.Outcome {
		case Passed:
			fmt.Fprintf(b, "PASS %s (%s)\n", r.Case.Name, took)
		case Skipped:
			fmt.Fprintf(b, "SKIP %s: %v\n", r.Case.Name, r.Err)
		case Failed:
			fmt.Fprintf(b, "FAIL %s (%s) %s\n", r.Case.Name, took, where)
		default:
			fmt.Fprintf(b, "ERROR %s (%s) %s\n", r.Case.Name, took, where)
		}
		return
	}
	switch r.Outcome {
	case Passed:
		fmt.Fprintf(b, "%s %s  %s\n", st.Render(st.Success, "✔"), r.Case.Name, st.Render(st.Dim, took))
	case Skipped:
		fmt.Fprintf(b, "%s %s  %s\n", st.Render(st.Warning, "○"), r.Case.Name, st.Render(st.Dim, "skipped: "+r.Err.Error()))
	default:
		fmt.Fprintf(b, "%s %s  %s  %s\n", st.Render(st.Failure, "✖"), st.Render(st.Bold, r.Case.Name), st.Render(st.Dim, took), st.Render(st.Dim, where))
	}
}

// status draws the line naming the running cases.
func (h *Human) status() {
	if !h.live || len(h.running) == 0 {
		return
	}
	var names []string
	n := 0
	for _, c := range h.running {
		name := c.Name
		if utf8.RuneCountInString(name) > 24 {
			name = string([]rune(name)[:23]) + "…"
		}
		if n+len(name) > 40 && len(names) > 0 {
			names = append(names, fmt.Sprintf("+%d", len(h.running)-len(names)))
			break
		}
		names = append(names, name)
		n += len(name) + 2
	}
	line := fmt.Sprintf("… %d/%d done · running %s", h.done, h.total, strings.Join(names, ", "))
	io.WriteString(h.w, "\r\x1b[2K"+h.st.Render(h.st.Dim, line))
	h.shown = true
}

// clear removes the status line.
func (h *Human) clear() {
	if h.shown {
		io.WriteString(h.w, "\r\x1b[2K")
		h.shown = false
	}
}

// Summary prints the totals after the run. target says what the cases ran
// against.
func (h *Human) Summary(results []*Result, took time.Duration, target string) {
	h.clear()
	if h.done > 0 {
		io.WriteString(h.w, "\n")
	}
	c := Count(results)
	st := h.st
	var parts []string
	parts = append(parts, fmt.Sprintf("%d passed", c.Passed))
	if c.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", c.Failed))
	}
	if c.Errored > 0 {
		parts = append(parts, fmt.Sprintf("%d could not run", c.Errored))
	}
	if c.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", c.Skipped))
	}
	line := fmt.Sprintf("%s: %s in %s", plural(len(results), "case"), strings.Join(parts, ", "), fmtDuration(took))
	if target != "" {
		line += " (" + target + ")"
	}
	style := st.Success
	if c.Failed+c.Errored+c.Skipped > 0 {
		style = st.Failure
	}
	fmt.Fprintln(h.w, st.Render(style, line))
}

// Counts are the number of cases of each outcome.
type Counts struct {
	Passed, Failed, Errored, Skipped int
}

// Count counts the outcomes of results.
func Count(results []*Result) Counts {
	var c Counts
	for _, r := range results {
		switch r.Outcome {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Errored:
			c.Errored++
		default:
			c.Skipped++
		}
	}
	return c
}

// JSONLines writes one JSON object per case, on one line, as each ends.
type JSONLines struct {
	w io.Writer
}

// NewJSONLines returns a reporter writing to w (stdout).
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// CaseJSON is what --json prints for each case.
type CaseJSON struct {
	File         string      `json:"file"`
	Line         int         `json:"line"`
	Name         string      `json:"name"`
	Function     string      `json:"function,omitempty"`
	Path         string      `json:"path,omitempty"`
	Method       string      `json:"method"`
	Outcome      Outcome     `json:"outcome"`
	DurationMs   float64     `json:"durationMs"`
	Status       int         `json:"status,omitempty"`
	Headers      http.Header `json:"headers,omitempty"`
	Body         string      `json:"body,omitempty"`
	BodyEncoding string      `json:"bodyEncoding,omitempty"`
	InvocationID string      `json:"invocationId,omitempty"`
	State        string      `json:"state,omitempty"`
	Attempts     int         `json:"attempts,omitempty"`
	Failures     []Failure   `json:"failures,omitempty"`
	Error        string      `json:"error,omitempty"`
	Logs         []LogLine   `json:"logs,omitempty"`
}

// Start implements Reporter.
func (j *JSONLines) Start(*Case) {}

// Finish implements Reporter.
func (j *JSONLines) Finish(r *Result) {
	c := r.Case
	out := CaseJSON{
		File: c.File, Line: c.Line, Name: c.Name, Function: c.Function, Method: c.Method,
		Outcome: r.Outcome, DurationMs: float64(r.Duration.Microseconds()) / 1000,
		Status: r.Status, Headers: r.Header, InvocationID: r.InvocationID, Failures: r.Failures,
	}
	if c.Function == "" {
		out.Path = c.Path.String()
	}
	if utf8.Valid(r.Body) {
		out.Body = string(r.Body)
	} else {
		out.Body, out.BodyEncoding = base64.StdEncoding.EncodeToString(r.Body), "base64"
	}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	if rec := r.Record; rec != nil {
		out.Logs = rec.Logs
		if c.Wait {
			out.State, out.Attempts = rec.Status, len(rec.Attempts)
		}
	}
	enc := json.NewEncoder(j.w)
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}
