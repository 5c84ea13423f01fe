package logs

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

// Printer renders every human line bgfn prints: the banner, build errors
// and warnings, request and run lines, reload and shutdown lines. It is the
// one place that applies styles, so the words and colours of a kind of line
// are decided once; everything goes through its Sink, whole lines only.
type Printer struct {
	sink *Sink
	st   *ui.Styles
}

// NewPrinter returns a printer writing to w, coloured when color is set.
func NewPrinter(w io.Writer, color bool) *Printer {
	st := ui.NewStyles(w, color)
	return &Printer{sink: NewSink(w, st), st: st}
}

// Sink is where the printer's lines go; workers' lines go there too.
func (p *Printer) Sink() *Sink { return p.sink }

// Flush writes what is buffered now.
func (p *Printer) Flush() { p.sink.Flush() }

// SetNames pads function prefixes to the longest of names plus room for
// an id and attempt ("#abcd/1"), so columns line up.
func (p *Printer) SetNames(names []string) {
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	p.sink.SetWidth(width + 7)
}

// FunctionLine prints one line a function wrote: "name#id | line".
func (p *Printer) FunctionLine(name, id string, line []byte) { p.sink.FunctionLine(name, id, line) }

// Duration is how every measured or configured duration is shown: "0.25ms",
// "52ms", "2.00s", "1m", "1m30s".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	d = d.Round(time.Second)
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%dm%ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// --- start-up -------------------------------------------------------------

// BannerFunction is one function's line in the banner.
type BannerFunction struct {
	Name, Kind, Runtime string
	// Where is the URL (or routes) it answers at.
	Where string
	// State is "", "invalid", "config error", "build failed" or "building".
	State    string
	Schedule string
}

// BannerRun is a background run the last bgfn left unfinished.
type BannerRun struct {
	Name, ID string
	// State says where it stood: "during attempt 1/3", "while queued".
	State string
}

// Banner is what `bgfn dev` says once it listens.
type Banner struct {
	URL string
	// Page is the runs page's URL (with its token when it needs one).
	Page         string
	FunctionsDir string // as the user would write it
	Took         time.Duration
	Functions    []BannerFunction
	Cron         bool
	// Interrupted are the runs the last bgfn left unfinished (it was
	// killed), now recorded as interrupted; Resumable counts every
	// interrupted run that can run again, and Resume says they do now.
	Interrupted []BannerRun
	Resumable   int
	Resume      bool
}

// maxBannerRuns is how many interrupted runs the banner names.
const maxBannerRuns = 10

// Banner prints the start-up banner.
func (p *Printer) Banner(b Banner) {
	st := p.st
	width := 0
	names := make([]string, len(b.Functions))
	for i, fn := range b.Functions {
		width = max(width, len(fn.Name))
		names[i] = fn.Name
	}
	p.SetNames(names)
	lines := []string{st.Render(st.Bold, "bgfn dev") + " " + st.Render(st.Dim, fmt.Sprintf("· %d functions from %s · ready in %s", len(b.Functions), b.FunctionsDir, Duration(b.Took)))}
	scheduled := false
	for _, fn := range b.Functions {
		status := ""
		switch fn.State {
		case "invalid":
			status = st.Render(st.Failure, "  invalid name (answers 400)")
		case "config error":
			status = st.Render(st.Failure, "  configuration error (answers 500)")
		case "build failed":
			status = st.Render(st.Failure, "  build failed (answers 500)")
		case "building":
			status = st.Render(st.Dim, "  building…")
		}
		if fn.Schedule != "" {
			scheduled = true
			status += st.Render(st.Dim, "  ⏰ "+fn.Schedule)
		}
		lines = append(lines, fmt.Sprintf("  %s  %-10s %-3s %s%s",
			st.Render(st.Function(fn.Name), fmt.Sprintf("%-*s", width, fn.Name)),
			fn.Kind, fn.Runtime, st.Render(st.URL, fn.Where), status))
	}
	if len(b.Functions) == 0 {
		lines = append(lines, st.Render(st.Warning, "  no functions found in "+b.FunctionsDir))
	}
	if scheduled {
		if b.Cron {
			lines = append(lines, st.Render(st.Accent, "⏰ scheduled functions fire on their schedule (UTC)"))
		} else {
			lines = append(lines, st.Render(st.Dim, "⏰ scheduled functions run only when called; run bgfn dev --cron (or BGFN_CRON=1) to fire them on their schedule"))
		}
	}
	lines = append(lines, bannerRuns(st, b)...)
	lines = append(lines, st.Render(st.Success, "⬥ Server listening on "+b.URL)+st.Render(st.Dim, " (Ctrl-C to stop)"))
	if b.Page != "" {
		lines = append(lines, st.Render(st.Accent, "⬥ Runs page: ")+st.Render(st.URL, b.Page))
	}
	p.sink.Lines(lines...)
}

// bannerRuns lists the interrupted runs and says how to run them again.
func bannerRuns(st *ui.Styles, b Banner) []string {
	var lines []string
	if n := len(b.Interrupted); n > 0 {
		lines = append(lines, st.Render(st.Warning, fmt.Sprintf("⚠ %s the last bgfn dev did not finish:", plural(n, "background run", "background runs"))))
		for k, r := range b.Interrupted {
			if k == maxBannerRuns {
				lines = append(lines, st.Render(st.Dim, fmt.Sprintf("  … and %d more (GET /.bgfn/api/invocations?status=interrupted)", n-k)))
				break
			}
			lines = append(lines, "  "+st.Render(st.Function(r.Name), r.Name+"#"+r.ID)+" "+st.Render(st.Warning, "interrupted (bgfn stopped unexpectedly)")+st.Render(st.Dim, " "+r.State))
		}
	}
	switch {
	case b.Resumable == 0:
	case b.Resume:
		lines = append(lines, st.Render(st.Accent, "↻ resuming "+plural(b.Resumable, "interrupted background run", "interrupted background runs")+" (--resume)"))
	default:
		lines = append(lines, st.Render(st.Dim, "  "+plural(b.Resumable, "interrupted background run", "interrupted background runs")+" can run again, with the same ids: bgfn dev --resume, or bgfn replay --interrupted while this bgfn dev runs"))
	}
	return lines
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Warning prints "⚠ text".
func (p *Printer) Warning(text string) { p.sink.Line(p.st.Render(p.st.Warning, "⚠ "+text)) }

// Warnings prints one "⚠ name: text" line per warning of a function.
func (p *Printer) Warnings(name string, warnings []string) {
	if len(warnings) == 0 {
		return
	}
	lines := make([]string, len(warnings))
	for i, w := range warnings {
		lines[i] = p.st.Render(p.st.Warning, "⚠ "+name+": "+w)
	}
	p.sink.Lines(lines...)
}

// Notice prints an event of bgfn's own: "⬥ text", with an optional dimmed
// detail.
func (p *Printer) Notice(text, detail string) {
	line := p.st.Render(p.st.Accent, "⬥ "+text)
	if detail != "" {
		line += p.st.Render(p.st.Dim, " ("+detail+")")
	}
	p.sink.Line(line)
}

// Failure prints "✖ text", with an optional dimmed note after it.
func (p *Printer) Failure(text, note string) {
	line := p.st.Render(p.st.Failure, "✖ "+text)
	if note != "" {
		line += p.st.Render(p.st.Dim, " ("+note+")")
	}
	p.sink.Line(line)
}

// RouteWarning prints a warning in netlify-cli's own words, without bgfn's
// "⚠" (scripts written against netlify-cli match it).
func (p *Printer) RouteWarning(text string) { p.sink.Line(p.st.Render(p.st.Warning, text)) }

// --- builds and reloads -----------------------------------------------------

// BuildError prints a failed build: a head line and the formatted detail,
// indented. took is 0 when the build was part of start-up; later builds say
// how long they took, and reloads that the function answers 500 until fixed.
func (p *Printer) BuildError(name, detail string, took time.Duration, reload bool) {
	head := "✖ Failed to build function " + name
	if took > 0 {
		head += " (" + Duration(took) + ")"
	}
	lines := []string{p.st.Render(p.st.Failure, head+":")}
	for _, l := range strings.Split(detail, "\n") {
		lines = append(lines, "  "+l)
	}
	if reload {
		lines = append(lines, p.st.Render(p.st.Dim, "  it answers 500 until the next good save"))
	}
	p.sink.Lines(lines...)
}

// Built says a build that start-up did not wait for has ended.
func (p *Printer) Built(name string, took time.Duration) {
	p.sink.Line(p.st.Render(p.st.Success, "⬥ Built function "+name+" in "+Duration(took)))
}

// Loaded says a function added while bgfn runs is served.
func (p *Printer) Loaded(name string, took time.Duration, kind, url string) {
	p.sink.Line(p.st.Render(p.st.Success, "⬥ Loaded function "+name) + p.st.Render(p.st.Dim, " in "+Duration(took)+" · "+kind+" · "+url))
}

// Reloaded says a function was rebuilt, and why.
func (p *Printer) Reloaded(name string, took time.Duration, why string) {
	p.sink.Line(p.st.Render(p.st.Success, "⬥ Reloaded function "+name+" in "+Duration(took)) + p.st.Render(p.st.Dim, " ("+why+")"))
}

// Restarted says a function's workers were restarted without a rebuild.
func (p *Printer) Restarted(name, why string) {
	p.sink.Line(p.st.Render(p.st.Success, "⬥ Restarted function "+name) + p.st.Render(p.st.Dim, " ("+why+")"))
}

// --- invocations ------------------------------------------------------------

func (p *Printer) prefix(name, id string) string { return p.sink.Prefix(name, id) }

// Request prints a synchronous invocation's answer: "name#id GET /p 200 1.2ms".
func (p *Printer) Request(name, id, method, uri string, status int, d time.Duration) {
	st := p.st
	code := fmt.Sprint(status)
	switch {
	case status >= 500:
		code = st.Render(st.Failure, code)
	case status >= 400:
		code = st.Render(st.Warning, code)
	default:
		code = st.Render(st.Success, code)
	}
	p.sink.Line(p.prefix(name, id) + " " + method + " " + shortURI(uri) + " " + code + " " + st.Render(st.Dim, Duration(d)))
}

// maxURI is how much of a request's URI its line shows: a query of
// 100,000 parameters is a megabyte that would fill the terminal.
const maxURI = 256

// shortURI cuts uri to maxURI bytes, saying how long it was. Request URIs
// are escaped ASCII, so a cut never splits a character.
func shortURI(uri string) string {
	if len(uri) <= maxURI {
		return uri
	}
	return uri[:maxURI] + "…(" + thousands(int64(len(uri))) + " bytes)"
}

// Queued says a background invocation was accepted.
func (p *Printer) Queued(name, id, method, uri string) {
	p.sink.Line(p.prefix(name, id) + " " + p.st.Render(p.st.Accent, "⬥ queued (202)") + " " + p.st.Render(p.st.Dim, method+" "+shortURI(uri)))
}

// Resumed says an interrupted background invocation was queued again,
// for attempt n of max.
func (p *Printer) Resumed(name, id string, n, max int) {
	p.sink.Line(p.prefix(name, id) + " " + p.st.Render(p.st.Accent, "↻ resumed") + " " + p.st.Render(p.st.Dim, fmt.Sprintf("(attempt %d/%d next)", n, max)))
}

// FunctionError prints an invocation's error: its first message line, then
// the rest of the message and the stack, dimmed, each with the prefix.
func (p *Printer) FunctionError(name, id, message string, stack []string) {
	msg := strings.Split(message, "\n")
	p.prefixed(name, id, p.st.Render(p.st.Failure, "⬥ Function "+name+" has returned an error: "+msg[0]), append(msg[1:], stack...))
}

func (p *Printer) prefixed(name, id, head string, rest []string) {
	pre := p.prefix(name, id)
	lines := []string{pre + " " + head}
	for _, l := range rest {
		lines = append(lines, pre+" "+p.st.Render(p.st.Dim, l))
	}
	p.sink.Lines(lines...)
}

// Succeeded says a background attempt succeeded; attempt n of max is noted
// after a retry.
func (p *Printer) Succeeded(name, id string, d time.Duration, n, max int) {
	p.sink.Line(p.prefix(name, id) + " " + p.st.Render(p.st.Success, "✔ succeeded in "+Duration(d)) + attemptNote(n, max))
}

func attemptNote(n, max int) string {
	if max <= 1 || n == 1 {
		return ""
	}
	return fmt.Sprintf(" (attempt %d/%d)", n, max)
}

// Interrupted says bgfn stopped a running background attempt.
func (p *Printer) Interrupted(name, id string, d time.Duration) {
	p.sink.Line(p.prefix(name, id) + " " + p.st.Render(p.st.Warning, "⏹ interrupted after "+Duration(d)))
}

// Cancelled says a background invocation was cancelled: while it ran
// (after d), or while it waited (d < 0).
func (p *Printer) Cancelled(name, id string, d time.Duration) {
	text := "⏹ cancelled"
	if d >= 0 {
		text += " after " + Duration(d) + " (its instance was stopped)"
	}
	p.sink.Line(p.prefix(name, id) + " " + p.st.Render(p.st.Warning, text))
}

// AttemptFailed says a background attempt failed ("failed" or "timed out"):
// the outcome and the first message line, then the rest and the stack.
// retryIn >= 0 says when the next attempt comes.
func (p *Printer) AttemptFailed(name, id, verb string, n, max int, d time.Duration, message string, stack []string, retryIn time.Duration) {
	msg := strings.Split(message, "\n")
	head := fmt.Sprintf("✖ %s (attempt %d/%d) after %s: %s", verb, n, max, Duration(d), msg[0])
	if retryIn >= 0 {
		head += " — retrying in " + Duration(retryIn)
	}
	p.prefixed(name, id, p.st.Render(p.st.Failure, head), append(msg[1:], stack...))
}

// Fired says the scheduler fired a scheduled function.
func (p *Printer) Fired(name, next string) {
	p.sink.Line(p.st.Render(p.st.Accent, "⏰ "+name+" fired") + p.st.Render(p.st.Dim, " (next run "+next+")"))
}

// --- shutdown ---------------------------------------------------------------

// ShuttingDown says bgfn is stopping: at once, or waiting up to grace for
// what still runs.
func (p *Printer) ShuttingDown(grace time.Duration, running string) {
	if running == "" {
		p.sink.Line(p.st.Render(p.st.Dim, "⬥ shutting down"))
		return
	}
	p.sink.Line(p.st.Render(p.st.Warning, "⬥ shutting down: waiting up to "+grace.String()+" for "+running+" (Ctrl-C again to stop now)"))
}

// Stopping says the grace period is over and what runs is stopped.
func (p *Printer) Stopping(running string) {
	p.sink.Line(p.st.Render(p.st.Warning, "⬥ stopping "+running))
}

// --- commands ---------------------------------------------------------------

// Status prints a command's one-line outcome (invoke's status line), green
// or red.
func (p *Printer) Status(ok bool, text string) {
	style := p.st.Success
	if !ok {
		style = p.st.Failure
	}
	p.sink.Line(p.st.Render(style, text))
}

// Dim prints a line of detail (headers, hints).
func (p *Printer) Dim(text string) { p.sink.Line(p.st.Render(p.st.Dim, text)) }

// Text prints a line as it is.
func (p *Printer) Text(text string) { p.sink.Line(text) }

// ErrorLine prints a command's failure, "Error: msg", with a hint line
// when there is one; it writes to w at once (bgfn is about to exit).
func ErrorLine(w io.Writer, color bool, msg, hint string) {
	st := ui.NewStyles(w, color)
	fmt.Fprintln(w, st.Render(st.Failure, "Error: ")+msg)
	if hint != "" {
		fmt.Fprintln(w, st.Render(st.Dim, "  "+hint))
	}
}

// Table renders rows under header: a rounded lipgloss table with a bold
// header when color is set (a terminal), else plain text the caller lays
// out.
func Table(color bool, header []string, rows [][]string) string {
	t := table.New().Headers(header...).Rows(rows...).
		Border(lipgloss.RoundedBorder()).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := lipgloss.NewStyle().Padding(0, 1)
			if row == table.HeaderRow && color {
				return s.Bold(true)
			}
			return s
		})
	return t.Render()
}
