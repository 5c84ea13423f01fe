// Package invoke calls one function from the shell or a CI job: through a
// running `bgfn dev` for the site when there is one, or standalone (build
// just that function, start one worker, invoke, stop) when there is not.
// The standalone runtime is handed in (Options.Runtime): invoke does not
// import the wiring of `bgfn dev`.
package invoke

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/background"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/routes"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/server"
	"github.com/bgfn-dev/bgfn/internal/site"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// Standalone is what a standalone call asks of the runtime.
type Standalone struct {
	Config            config.Options
	Function          string
	Timeout           time.Duration
	BackgroundTimeout time.Duration
	InitTimeout       time.Duration
	Retries           int
	RetryScale        float64
	Hurry             context.Context
	Printer           *logs.Printer
}

// Runtime starts bgfn's runtime in process, serving only the named
// function on a free port, and returns its URL and a function that stops
// it (leaving no process behind).
type Runtime func(ctx context.Context, s Standalone) (url string, stop func() error, err error)

// Options are the flags of `bgfn invoke`.
type Options struct {
	Streams *ui.IOStreams
	Printer *logs.Printer
	Config  config.Options
	// Runtime starts the standalone runtime.
	Runtime Runtime

	Name       string
	Data       string
	DataSet    bool
	Method     string
	MethodSet  bool
	Headers    []string
	Query      string
	Path       string
	Identity   bool
	Timeout    time.Duration
	Port       int
	Server     string
	Standalone bool
	JSON       bool
	Verbose    bool
	Wait       bool

	// Standalone settings.
	RetryScale        float64
	NoRetries         bool
	BackgroundTimeout time.Duration
	InitTimeout       time.Duration
	Hurry             context.Context
}

// Output is what --json prints.
type Output struct {
	Status       int                 `json:"status"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding,omitempty"`
	DurationMs   float64             `json:"durationMs"`
	InvocationID string              `json:"invocationId,omitempty"`
	Mode         string              `json:"mode"`
	Record       *records.View       `json:"record,omitempty"`
}

// Run performs one invocation and returns nil, or an error carrying the
// exit code (an *exit.Error).
func Run(ctx context.Context, opts Options) error {
	s, err := site.Load(opts.Config)
	if err != nil {
		return err
	}
	body, err := readData(opts)
	if err != nil {
		return exit.With(exit.Usage, err)
	}
	fn, ok := s.Function(opts.Name)
	if !ok {
		return exit.With(exit.Usage, unknownFunction(opts.Name, s.Functions, s.Config))
	}
	return runFunction(ctx, opts, s, fn, func(string) []byte { return body })
}

// runFunction calls fn through a running server for the site, or
// standalone; bodyFor gives the request body for the server at base.
func runFunction(ctx context.Context, opts Options, s *site.Site, fn discover.Function, bodyFor func(base string) []byte) error {
	base, mode := opts.Server, "server"
	if base == "" && !opts.Standalone {
		base, _ = apiclient.Find(ctx, s, opts.Port)
	}
	if base == "" {
		mode = "standalone"
		url, stop, err := opts.Runtime(ctx, Standalone{
			Config:            opts.Config,
			Function:          fn.Name,
			Timeout:           opts.Timeout,
			BackgroundTimeout: opts.BackgroundTimeout,
			// A worker that never gets ready must not outlast --timeout.
			InitTimeout: initTimeout(opts),
			Retries:     background.Retries(opts.NoRetries),
			RetryScale:  opts.RetryScale,
			Hurry:       opts.Hurry,
			Printer:     opts.Printer,
		})
		if err != nil {
			var ce *config.ParseError
			if errors.As(err, &ce) {
				return err
			}
			return exit.With(exit.Unavailable, fmt.Errorf("start %s standalone: %w", fn.Name, err))
		}
		defer stop()
		base = url
		if fn.Kind == discover.KindBackground && !opts.Wait {
			// Nothing would be left to run the function once this command
			// exits, so a standalone background call always waits.
			opts.Wait = true
		}
	}
	return call(ctx, opts, fn, bodyFor(base), base, mode)
}

// initTimeout is the standalone worker's start limit: --init-timeout, but
// no longer than a synchronous call's --timeout.
func initTimeout(opts Options) time.Duration {
	d := opts.InitTimeout
	if d <= 0 {
		d = runtime.DefaultInitTimeout
	}
	if opts.Timeout > 0 && opts.Timeout < d {
		d = opts.Timeout
	}
	return d
}

// readData resolves --data: literal text, @file (read, never executed) or
// - for standard input.
func readData(opts Options) ([]byte, error) {
	if !opts.DataSet {
		return nil, nil
	}
	switch {
	case opts.Data == "-":
		b, err := io.ReadAll(opts.Streams.In)
		if err != nil {
			return nil, fmt.Errorf("read --data from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(opts.Data, "@"):
		p := opts.Data[1:]
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read --data file %s: %w", p, errors.Unwrap(err))
		}
		return b, nil
	}
	return []byte(opts.Data), nil
}

// requestPath is the path (and query) to call fn at: --path when given,
// else /.netlify/functions/NAME, or for a function with config.path its
// first literal route (a function with routes does not answer at
// /.netlify/functions/NAME, as on Netlify).
func requestPath(fn discover.Function, path, query string) (string, error) {
	switch {
	case path != "":
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
	case len(fn.Paths) == 0:
		path = "/.netlify/functions/" + fn.Name
	default:
		for _, p := range fn.Paths {
			if r, err := routes.Compile(p); err == nil && r.Literal() {
				path = p
				break
			}
		}
		if path == "" {
			return "", fmt.Errorf("function %s answers only on routes with parameters or wildcards (%s): give the request path with --path, for example --path %s",
				fn.Name, strings.Join(fn.Paths, ", "), exampleRoute(fn.Paths[0]))
		}
	}
	if query = strings.TrimPrefix(query, "?"); query != "" {
		if strings.Contains(path, "?") {
			path += "&" + query
		} else {
			path += "?" + query
		}
	}
	return path, nil
}

// exampleRoute fills a route pattern's parameters and wildcards with
// sample values: /items/:id becomes /items/1.
func exampleRoute(pattern string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, ":"):
			parts[i] = "1"
		case strings.Contains(p, "*"):
			parts[i] = strings.ReplaceAll(p, "*", "x")
		}
	}
	return strings.Join(parts, "/")
}

// requestMethod is --method, or for a function whose routes accept only
// some methods (config.method) and no --method was given, the first of
// them when POST is not one.
func requestMethod(fn discover.Function, method string, set bool) string {
	method = strings.ToUpper(method)
	if method == "" {
		method = http.MethodPost
	}
	if !set && len(fn.Paths) > 0 && len(fn.Methods) > 0 && !slices.Contains(fn.Methods, method) {
		return fn.Methods[0]
	}
	return method
}

func call(ctx context.Context, opts Options, fn discover.Function, body []byte, base, mode string) error {
	header := http.Header{}
	for _, h := range opts.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return exit.With(exit.Usage, fmt.Errorf("invalid --header %q: use 'Name: value'", h))
		}
		header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	req, err := NewRequest(ctx, base, fn, Call{
		Method: opts.Method, MethodSet: opts.MethodSet, Path: opts.Path, Query: opts.Query,
		Header: header, Body: body, Identity: opts.Identity,
	})
	if err != nil {
		return exit.With(exit.Usage, err)
	}
	method, path := req.Method, req.URL.RequestURI()
	client := &http.Client{}
	if opts.Timeout > 0 && fn.Kind != discover.KindBackground {
		// The function's own limit plus room for the round trip: the
		// server answers a timeout itself, this only guards against one
		// that never answers.
		client.Timeout = opts.Timeout + 5*time.Second
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
			return exit.With(exit.Failed, fmt.Errorf("function %s did not answer within %s (--timeout)", fn.Name, client.Timeout))
		}
		return exit.With(exit.Unavailable, fmt.Errorf("%s %s%s: %w", method, base, path, err))
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return exit.With(exit.Unavailable, fmt.Errorf("read response: %w", err))
	}
	took := time.Since(start)
	c := &apiclient.Client{Base: base}
	id := resp.Header.Get("X-Bgfn-Invocation-Id")
	out := output(resp, respBody, took, mode)
	p := opts.Printer

	// A sync call through a server: show the function's logs from its record.
	if mode == "server" && id != "" && resp.StatusCode != http.StatusAccepted {
		if v, err := c.Invocation(ctx, id); err == nil {
			printLogs(p, v, 0)
		}
	}
	printStatus(p, resp, took, mode, id, opts.Verbose)

	if resp.StatusCode == http.StatusNotFound && string(respBody) == server.NotFoundBody {
		if opts.Path != "" {
			return exit.With(exit.Usage, fmt.Errorf("no function answers %s %s at %s (function %s has routes %s)", method, path, base, fn.Name, routeList(fn)))
		}
		return exit.With(exit.Usage, fmt.Errorf("the server at %s has no function %q", base, fn.Name))
	}
	background := fn.Kind == discover.KindBackground && resp.StatusCode == http.StatusAccepted
	if background && opts.Wait && id != "" {
		return finishBackground(ctx, opts, c, id, mode == "server", out)
	}
	if opts.JSON {
		writeJSON(opts.Streams.Out, out)
	} else {
		opts.Streams.Out.Write(respBody)
		// On a terminal, end the body's line so the prompt or a status
		// line does not stick to it; piped output stays byte-exact.
		if n := len(respBody); n > 0 && respBody[n-1] != '\n' && opts.Streams.IsStdoutTTY() {
			io.WriteString(opts.Streams.Out, "\n")
		}
	}
	switch {
	case background:
		p.Dim("queued: follow it with `curl " + base + "/.bgfn/api/invocations/" + id + "`, or use --wait")
	case resp.StatusCode >= 400:
		return exit.With(exit.Failed, fmt.Errorf("function %s answered %d %s", fn.Name, resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	return nil
}

// Call is one request to a function, as bgfn invoke and the MCP
// invoke_function tool make it.
type Call struct {
	// Method is the HTTP method (default POST); unless MethodSet, a
	// function whose routes take only some methods gets the first of them.
	Method    string
	MethodSet bool
	// Path is the request path with its query, if any; empty means
	// /.netlify/functions/NAME or the function's first literal route.
	Path  string
	Query string
	// Header is set on the request last, over what NewRequest sets.
	Header http.Header
	Body   []byte
	// Identity sends a Netlify Identity-like Bearer JWT.
	Identity bool
}

// NewRequest builds the request that calls fn on the server at base: the
// path and method the function answers, the sample event an
// event-triggered function gets (with Body's JSON merged over it), a
// content type that fits the body, the scheduler's headers for a
// scheduled function, an identity token if asked, then c.Header.
func NewRequest(ctx context.Context, base string, fn discover.Function, c Call) (*http.Request, error) {
	path, err := requestPath(fn, c.Path, c.Query)
	if err != nil {
		return nil, err
	}
	method := requestMethod(fn, c.Method, c.MethodSet)
	body := sampleBody(fn, c.Body)
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if len(body) > 0 {
		switch {
		case json.Valid(body):
			req.Header.Set("Content-Type", "application/json")
		case utf8.Valid(body):
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		default:
			req.Header.Set("Content-Type", "application/octet-stream")
		}
	}
	if fn.Kind == discover.KindScheduled {
		req.Header.Set("User-Agent", server.ClockworkUA)
		req.Header.Set("X-NF-Event", "schedule")
	}
	if c.Identity {
		req.Header.Set("Authorization", "Bearer "+identityJWT())
	}
	for k, vs := range c.Header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	return req, nil
}

// output is what --json prints of an answer.
func output(resp *http.Response, body []byte, took time.Duration, mode string) Output {
	out := Output{Status: resp.StatusCode, Headers: resp.Header, DurationMs: float64(took.Microseconds()) / 1000, InvocationID: resp.Header.Get("X-Bgfn-Invocation-Id"), Mode: mode}
	if utf8.Valid(body) {
		out.Body = string(body)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(body)
		out.BodyEncoding = "base64"
	}
	return out
}

// printStatus prints the status line, and the headers with -v.
func printStatus(p *logs.Printer, resp *http.Response, took time.Duration, mode, id string, verbose bool) {
	line := fmt.Sprintf("HTTP %d %s · %s · %s", resp.StatusCode, http.StatusText(resp.StatusCode), logs.Duration(took), mode)
	if id != "" {
		line += " · invocation " + id
	}
	p.Status(resp.StatusCode < 400, line)
	if !verbose {
		return
	}
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			p.Dim(k + ": " + v)
		}
	}
}

// finishBackground follows a background invocation until it ends and
// exits with its outcome.
func finishBackground(ctx context.Context, opts Options, c *apiclient.Client, id string, printLogsToo bool, out Output) error {
	v, err := waitRecord(ctx, opts.Printer, c, id, printLogsToo)
	if err != nil {
		return exit.With(exit.Unavailable, err)
	}
	out.Record = v
	line, ok := outcomeLine(v)
	if opts.JSON {
		writeJSON(opts.Streams.Out, out)
	} else {
		opts.Printer.Text(line)
	}
	if !ok {
		return exit.With(exit.Failed, fmt.Errorf("background invocation %s ended %s", id, v.Status))
	}
	return nil
}

// routeList names where fn answers, for messages.
func routeList(fn discover.Function) string {
	if len(fn.Paths) == 0 {
		return "/.netlify/functions/" + fn.Name
	}
	return strings.Join(fn.Paths, ", ")
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// waitRecord follows a background invocation until it is final, printing
// its log lines as they come when they do not already reach the terminal.
func waitRecord(ctx context.Context, p *logs.Printer, c *apiclient.Client, id string, printLogsToo bool) (*records.View, error) {
	printed := 0
	for {
		v, err := c.Wait(ctx, id, 250*time.Millisecond)
		if err != nil {
			return nil, err
		}
		if printLogsToo {
			printed = printLogs(p, v, printed)
		}
		if v.Status.Final() {
			return v, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func printLogs(p *logs.Printer, v *records.View, from int) int {
	for _, l := range v.Logs[min(from, len(v.Logs)):] {
		id := records.ShortID(v.ID)
		if v.MaxAttempts > 1 {
			id += "/" + strconv.Itoa(l.Attempt)
		}
		p.FunctionLine(v.Function, id, []byte(l.Line))
	}
	return len(v.Logs)
}

func outcomeLine(v *records.View) (string, bool) {
	n := len(v.Attempts)
	if v.Status == records.Succeeded {
		return fmt.Sprintf("✔ %s succeeded in %.0fms (attempt %d/%d)", v.Function, v.DurationMs, n, v.MaxAttempts), true
	}
	msg := fmt.Sprintf("✖ %s %s after %d attempt(s)", v.Function, v.Status, n)
	if n > 0 && v.Attempts[n-1].Error != nil {
		msg += ": " + v.Attempts[n-1].Error.Error()
	}
	return msg, false
}
