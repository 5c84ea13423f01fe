// Package invoke calls one function from the shell or a CI job: through a
// running `bgfn dev` for the site when there is one, or standalone (build
// just that function, start one worker, invoke, stop) when there is not.
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
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/server"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// Exit codes, documented in `bgfn invoke --help` and the README.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitUnreachable = 3
)

// Error carries the exit code a failure calls for.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Options are the flags of `bgfn invoke`.
type Options struct {
	Streams *ui.IOStreams
	Sink    *logs.Sink
	Config  config.Options

	Name       string
	Data       string
	DataSet    bool
	Method     string
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
	Record       *records.Record     `json:"record,omitempty"`
}

// Run performs one invocation and returns nil, or an *Error with the exit
// code.
func Run(ctx context.Context, opts Options) error {
	cfg, err := config.Load(opts.Config)
	if err != nil {
		return err
	}
	body, err := readData(opts)
	if err != nil {
		return &Error{ExitUsage, err}
	}
	fns, _, err := discover.Discover(os.DirFS(cfg.FunctionsDir), func(name string) discover.Settings {
		fs := cfg.Functions.For(name)
		return discover.Settings{Background: fs.Background, Schedule: fs.Schedule}
	})
	if err != nil {
		return &Error{ExitUsage, err}
	}
	fn, ok := find(fns, opts.Name)
	if !ok {
		return &Error{ExitUsage, unknownFunction(opts.Name, fns, cfg)}
	}
	body = sampleBody(fn, body)

	base, mode := opts.Server, "server"
	var inst *dev.Instance
	if base == "" && !opts.Standalone {
		base = FindServer(ctx, cfg, opts.Port)
	}
	if base == "" {
		mode = "standalone"
		inst, err = dev.Start(ctx, dev.Options{
			Config:            opts.Config,
			Port:              0,
			Only:              fn.Name,
			Standalone:        true,
			Timeout:           opts.Timeout,
			BackgroundTimeout: opts.BackgroundTimeout,
			MaxWorkers:        1,
			Retries:           retriesFor(opts.NoRetries),
			RetryScale:        opts.RetryScale,
			Records:           16,
			ShutdownTimeout:   2 * time.Second,
			Hurry:             opts.Hurry,
			Sink:              opts.Sink,
		})
		if err != nil {
			var ce *config.ParseError
			if errors.As(err, &ce) {
				return err
			}
			return &Error{ExitUnreachable, fmt.Errorf("start %s standalone: %w", fn.Name, err)}
		}
		defer inst.Shutdown()
		base = inst.URL
		if fn.Kind == discover.KindBackground && !opts.Wait {
			// Nothing would be left to run the function once this command
			// exits, so a standalone background call always waits.
			opts.Wait = true
		}
	}
	return call(ctx, opts, fn, body, base, mode)
}

func retriesFor(off bool) int {
	if off {
		return 0
	}
	return 2
}

func find(fns []discover.Function, name string) (discover.Function, bool) {
	for _, f := range fns {
		if f.Name == name {
			return f, true
		}
	}
	return discover.Function{}, false
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

// FindServer returns the URL of a running `bgfn dev` for this site, or ""
// when there is none: the one named in its state file, else one on port
// (0: netlify.toml's, else 9999). Servers of other sites are not used.
// bgfn smoke finds its server the same way.
func FindServer(ctx context.Context, cfg *config.Config, port int) string {
	var candidates []string
	if b, err := os.ReadFile(dev.StatePath(cfg.BaseDir)); err == nil {
		var st dev.State
		if json.Unmarshal(b, &st) == nil && st.URL != "" {
			candidates = append(candidates, st.URL)
		}
	}
	if port == 0 {
		port = cfg.Port
	}
	if port == 0 {
		port = dev.DefaultPort
	}
	candidates = append(candidates, "http://127.0.0.1:"+strconv.Itoa(port))
	client := &http.Client{Timeout: 500 * time.Millisecond}
	for _, u := range candidates {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/.bgfn/api/info", nil)
		if err != nil {
			continue
		}
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		var info server.Info
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && sameDir(info.Site, cfg.SiteDir) {
			return u
		}
	}
	return ""
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ra == rb
}

func call(ctx context.Context, opts Options, fn discover.Function, body []byte, base, mode string) error {
	st := opts.Sink.Styles()
	target := base + "/.netlify/functions/" + fn.Name
	if opts.Path != "" {
		target += "/" + strings.TrimPrefix(opts.Path, "/")
	}
	if opts.Query != "" {
		target += "?" + strings.TrimPrefix(opts.Query, "?")
	}
	method := strings.ToUpper(opts.Method)
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return &Error{ExitUsage, fmt.Errorf("build request: %w", err)}
	}
	if len(body) > 0 {
		if json.Valid(body) {
			req.Header.Set("Content-Type", "application/json")
		} else if utf8.Valid(body) {
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
	}
	if fn.Kind == discover.KindScheduled {
		req.Header.Set("User-Agent", "Netlify Clockwork")
		req.Header.Set("X-NF-Event", "schedule")
	}
	if opts.Identity {
		req.Header.Set("Authorization", "Bearer "+identityJWT())
	}
	for _, h := range opts.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return &Error{ExitUsage, fmt.Errorf("invalid --header %q: use 'Name: value'", h)}
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{}
	if opts.Timeout > 0 {
		// The function's own limit plus room for the round trip.
		client.Timeout = opts.Timeout + 5*time.Second
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return &Error{ExitUnreachable, fmt.Errorf("%s %s: %w", method, target, err)}
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return &Error{ExitUnreachable, fmt.Errorf("read response: %w", err)}
	}
	took := time.Since(start)
	id := resp.Header.Get("X-Bgfn-Invocation-Id")
	out := Output{Status: resp.StatusCode, Headers: resp.Header, DurationMs: float64(took.Microseconds()) / 1000, InvocationID: id, Mode: mode}
	if utf8.Valid(respBody) {
		out.Body = string(respBody)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(respBody)
		out.BodyEncoding = "base64"
	}

	errOut := opts.Streams.ErrOut
	statusLine := fmt.Sprintf("HTTP %d %s · %s · %s", resp.StatusCode, http.StatusText(resp.StatusCode), fmtDur(took), mode)
	if id != "" {
		statusLine += " · invocation " + id
	}
	statusStyle := st.Success
	if resp.StatusCode >= 400 {
		statusStyle = st.Failure
	}

	// A sync call through a server: show the function's logs from its record.
	if mode == "server" && id != "" && resp.StatusCode != http.StatusAccepted {
		if rec, err := getRecord(ctx, base, id, ""); err == nil {
			printLogs(opts.Sink, rec, 0)
		}
	}
	opts.Sink.Flush()
	fmt.Fprintln(errOut, st.Render(statusStyle, statusLine))
	if opts.Verbose {
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintln(errOut, st.Render(st.Dim, k+": "+v))
			}
		}
	}

	if resp.StatusCode == http.StatusNotFound && string(respBody) == "Function not found..." {
		return &Error{ExitUsage, fmt.Errorf("the server at %s has no function %q", base, fn.Name)}
	}

	background := fn.Kind == discover.KindBackground && resp.StatusCode == http.StatusAccepted
	if background && opts.Wait && id != "" {
		rec, err := waitRecord(ctx, opts, base, id, mode == "server")
		if err != nil {
			return &Error{ExitUnreachable, err}
		}
		out.Record = rec
		opts.Sink.Flush()
		line, ok := outcomeLine(rec)
		if !opts.JSON {
			fmt.Fprintln(errOut, line)
		}
		if opts.JSON {
			writeJSON(opts.Streams.Out, out)
		}
		if !ok {
			return &Error{ExitFailed, fmt.Errorf("background invocation %s ended %s", id, rec.Status)}
		}
		return nil
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
	opts.Sink.Flush()
	switch {
	case background:
		fmt.Fprintln(errOut, st.Render(st.Dim, "queued: follow it with `curl "+base+"/.bgfn/api/invocations/"+id+"`, or use --wait"))
		return nil
	case resp.StatusCode >= 400:
		return &Error{ExitFailed, fmt.Errorf("function %s answered %d %s", fn.Name, resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	return nil
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func getRecord(ctx context.Context, base, id, suffix string) (*records.Record, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.bgfn/api/invocations/"+id+suffix, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("get invocation %s: %s", id, resp.Status)
	}
	rec := new(records.Record)
	if err := json.NewDecoder(resp.Body).Decode(rec); err != nil {
		return nil, fmt.Errorf("decode invocation %s: %w", id, err)
	}
	return rec, nil
}

// waitRecord follows a background invocation until it is final, printing
// its log lines as they come when they do not already reach the terminal.
func waitRecord(ctx context.Context, opts Options, base, id string, printLogsToo bool) (*records.Record, error) {
	printed := 0
	for {
		rec, err := getRecord(ctx, base, id, "/wait?timeout=250ms")
		if err != nil {
			return nil, err
		}
		if printLogsToo {
			printed = printLogs(opts.Sink, rec, printed)
		}
		if rec.Status.Final() {
			return rec, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func printLogs(sink *logs.Sink, rec *records.Record, from int) int {
	for _, l := range rec.Logs[min(from, len(rec.Logs)):] {
		id := server.ShortID(rec.ID)
		if rec.MaxAttempts > 1 {
			id += "/" + strconv.Itoa(l.Attempt)
		}
		sink.FunctionLine(rec.Function, id, []byte(l.Line))
	}
	return len(rec.Logs)
}

func outcomeLine(rec *records.Record) (string, bool) {
	n := len(rec.Attempts)
	if rec.Status == records.Succeeded {
		return fmt.Sprintf("✔ %s succeeded in %.0fms (attempt %d/%d)", rec.Function, rec.DurationMs, n, rec.MaxAttempts), true
	}
	msg := fmt.Sprintf("✖ %s %s after %d attempt(s)", rec.Function, rec.Status, n)
	if n > 0 && rec.Attempts[n-1].Error != nil {
		msg += ": " + rec.Attempts[n-1].Error.Error()
	}
	return msg, false
}
