package mcp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/invoke"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/textdist"
)

// register is the tool table, in the order tools/list shows it. A new
// tool is one row here plus its handler (trigger_event is in trigger.go).
func (b *bgfn) register(s *sdk.Server) {
	add(s, b, spec{name: "list_functions", title: "List functions", readOnly: true, desc: `List the site's functions: name, kind (sync, background or scheduled), runtime (js, ts or go), the routes and methods it answers (v2 config.path, else /.netlify/functions/NAME), schedule and next run, the platform events that trigger it, the entry file and build output paths, and the build state (ok, building, or failed with the formatted build error). Call it first.`}, b.listFunctions)
	add(s, b, spec{name: "invoke_function", title: "Invoke a function", desc: `Call one function with an HTTP request, as bgfn invoke does, and return its status, headers, body (cut at 64 KB, with body_truncated set), invocation id, duration and the log lines it printed. A background function answers 202 at once; set wait to follow it through its retries until it ends and get its outcome, errors and logs.`}, b.invokeFunction)
	add(s, b, spec{name: "trigger_event", title: "Trigger a platform event", desc: `Send a Netlify platform event (deploy-succeeded, submission-created, identity-signup, ...) as bgfn trigger does: a POST with the x-netlify-event header and a realistic sample payload (or body) to every function that handles it (legacy functions named after the event, v2 default export objects with the event's method; list_functions shows each function's events), or only to function. Returns what each answered, with its invocation's outcome and logs; background functions are waited for. A denied identity event answers 401, an invalid payload 400.`}, b.triggerEvent)
	add(s, b, spec{name: "list_invocations", title: "List invocations", readOnly: true, desc: `List invocation records, newest first: id, function, kind, status, when, duration, attempts and the last error. Filter by function and status; the newest records are kept in memory.`}, b.listInvocations)
	add(s, b, spec{name: "get_invocation", title: "Get an invocation", readOnly: true, desc: `Get one invocation record: status, the request, every attempt with its error (type, message, stack), and the log lines of every attempt.`}, b.getInvocation)
	add(s, b, spec{name: "wait_invocation", title: "Wait for an invocation", readOnly: true, desc: `Wait until an invocation ends (succeeded, failed, timed_out, interrupted or cancelled), or the timeout passes, and return its record. Use it after invoke_function on a background function without wait, or after replay_invocation.`}, b.waitInvocation)
	add(s, b, spec{name: "replay_invocation", title: "Replay an invocation", desc: `Run a recorded invocation again with the same request, or with a new body. A synchronous replay returns what the function answered and its record; a background one returns its new invocation id, and with wait its outcome and logs.`}, b.replayInvocation)
	add(s, b, spec{name: "cancel_invocation", title: "Cancel an invocation", destructive: true, idempotent: true, desc: `Cancel a queued, running or retrying background invocation: a queued one never starts, a running one has its instance stopped at once, one waiting for a retry is not retried. It ends as cancelled, with no further attempts; the function's other instances go on. Returns the record.`}, b.cancelInvocation)
	add(s, b, spec{name: "tail_logs", title: "Tail the logs", readOnly: true, desc: `Return the log lines every function printed after a cursor, optionally for one function, with the next cursor to pass on the next call, so polling misses no line. Start without a cursor (every line still held). missed says how many lines were dropped before you read them (the server keeps the newest 10,000); more says the limit cut the page and you should call again at once.`}, b.tailLogs)
	add(s, b, spec{name: "blobs_list", title: "List Netlify Blobs", readOnly: true, desc: `List the site's local Netlify Blobs: without a store, the stores; with one, its keys (size, last modified, ETag), optionally under a prefix, one page at a time.`}, b.blobsList)
	add(s, b, spec{name: "blobs_get", title: "Get a Netlify Blob", readOnly: true, desc: `Read one value of a local Netlify Blobs store, with its metadata. Text comes as it is; other bytes as base64 (encoding says which). Values past max_bytes are cut (truncated is set).`}, b.blobsGet)
	add(s, b, spec{name: "blobs_set", title: "Set a Netlify Blob", idempotent: true, desc: `Store a value in a local Netlify Blobs store (created on first write), with optional metadata, as the functions' getStore(STORE).set(KEY, value) would.`}, b.blobsSet)
	add(s, b, spec{name: "blobs_delete", title: "Delete a Netlify Blob", destructive: true, idempotent: true, desc: `Delete one value of a local Netlify Blobs store. Deleting a key that has no value is not an error: deleted is false.`}, b.blobsDelete)
	add(s, b, spec{name: "get_config", title: "Get the configuration", readOnly: true, desc: `Show the resolved configuration: the site and functions folders (and where the functions folder came from), the names of the environment variables and their sources (never their values), the .env files read, the limits (timeouts, body sizes, workers, retries) and the flags the server runs with.`}, b.getConfig)
}

// Bounds of what the tools return, so one answer does not flood a
// model's context.
const (
	maxBody       = 64 << 10
	maxBlob       = 64 << 10
	maxBlobLimit  = 1 << 20
	textLogLines  = 20
	textBodyChars = 2000
	textTailLines = 200
)

// --- list_functions

type listFunctionsIn struct{}

type listFunctionsOut struct {
	Server    string         `json:"server" jsonschema:"base URL of the bgfn server the functions run on"`
	Functions []api.Function `json:"functions" jsonschema:"the functions, sorted by name"`
}

func (b *bgfn) listFunctions(ctx context.Context, c *apiclient.Client, _ listFunctionsIn) (listFunctionsOut, string, error) {
	fns, err := c.Functions(ctx)
	if err != nil {
		return listFunctionsOut{}, "", err
	}
	out := listFunctionsOut{Server: c.Base, Functions: fns}
	if len(fns) == 0 {
		return out, "No functions found (see get_config for the functions folder).", nil
	}
	var t strings.Builder
	fmt.Fprintf(&t, "%d functions on %s:\n", len(fns), c.Base)
	for _, f := range fns {
		where := "/.netlify/functions/" + f.Name
		if len(f.Routes) > 0 {
			where = strings.Join(f.Routes, ", ")
			if len(f.Methods) > 0 {
				where = strings.Join(f.Methods, ",") + " " + where
			}
		}
		fmt.Fprintf(&t, "- %s (%s, %s) %s, build %s, source %s", f.Name, f.Kind, f.Runtime, where, f.Build.State, f.Source)
		if f.Schedule != "" {
			fmt.Fprintf(&t, ", schedule %q", f.Schedule)
		}
		if len(f.Events) > 0 {
			fmt.Fprintf(&t, ", triggered by %s", strings.Join(f.Events, ", "))
		}
		t.WriteString("\n")
		for _, msg := range []string{f.Build.Error, f.Invalid, f.ConfigError} {
			if msg != "" {
				t.WriteString(indent(msg) + "\n")
			}
		}
	}
	return out, strings.TrimSuffix(t.String(), "\n"), nil
}

// --- invoke_function

type invokeIn struct {
	Name        string            `json:"name" jsonschema:"the function's name, as list_functions shows it"`
	Method      string            `json:"method,omitempty" jsonschema:"HTTP method; default POST, or the first method a function limited by config.method accepts"`
	Path        string            `json:"path,omitempty" jsonschema:"request path with its query, e.g. /api/items/42?full=1; default /.netlify/functions/NAME, or the function's first literal route. Needed when every route has parameters"`
	Query       string            `json:"query,omitempty" jsonschema:"query string to add, e.g. name=Ada&lang=en"`
	Headers     map[string]string `json:"headers,omitempty" jsonschema:"request headers; a Content-Type fitting the body is set unless given"`
	Body        string            `json:"body,omitempty" jsonschema:"request body as text (JSON is sent as application/json). Event-triggered functions get Netlify's sample event with this JSON merged over it"`
	BodyBase64  bool              `json:"body_base64,omitempty" jsonschema:"body is base64 of binary bytes"`
	Identity    bool              `json:"identity,omitempty" jsonschema:"send a Netlify Identity-like Bearer token so context.clientContext.user is filled"`
	Wait        bool              `json:"wait,omitempty" jsonschema:"for a background function: wait until it ends, through its retries, and return its outcome, errors and logs"`
	WaitTimeout string            `json:"wait_timeout,omitempty" jsonschema:"how long wait waits, as a Go duration (default 5m, at most 30m); past it the run goes on and wait_invocation can follow it"`
}

type invokeOut struct {
	Function      string            `json:"function"`
	Method        string            `json:"method"`
	Path          string            `json:"path" jsonschema:"the path and query the request went to"`
	Status        int               `json:"status" jsonschema:"HTTP status of the answer (202 for an accepted background call)"`
	Headers       map[string]string `json:"headers" jsonschema:"answer headers (repeated ones joined with ', ')"`
	Body          string            `json:"body" jsonschema:"answer body (its first 64 KB)"`
	BodyEncoding  string            `json:"body_encoding" jsonschema:"utf-8, or base64 when the body is not text"`
	BodyBytes     int64             `json:"body_bytes" jsonschema:"size of the whole body"`
	BodyTruncated bool              `json:"body_truncated" jsonschema:"the body was cut at 64 KB"`
	InvocationID  string            `json:"invocation_id,omitempty" jsonschema:"the invocation's id, for get_invocation, wait_invocation and replay_invocation"`
	DurationMs    float64           `json:"duration_ms" jsonschema:"round trip of the HTTP request; with wait, the invocation's duration"`
	Background    bool              `json:"background"`
	Outcome
}

// Outcome is what an invocation's record says of how it went.
type Outcome struct {
	State       records.Status    `json:"state,omitempty" jsonschema:"the invocation's status: queued, running, retrying, succeeded, failed, timed_out, interrupted or cancelled"`
	Finished    bool              `json:"finished" jsonschema:"the invocation reached a final state"`
	Attempts    []records.Attempt `json:"attempts,omitempty" jsonschema:"each attempt with its status, duration and error"`
	Error       *records.Error    `json:"error,omitempty" jsonschema:"the last attempt's error"`
	Logs        []records.LogLine `json:"logs,omitempty" jsonschema:"the log lines of the invocation, every attempt"`
	LogsDropped int               `json:"logs_dropped,omitempty" jsonschema:"lines past the 1,000 a record keeps"`
}

func outcomeOf(v *records.View) Outcome {
	o := Outcome{State: v.Status, Finished: v.Status.Final(), Attempts: v.Attempts, Logs: v.Logs, LogsDropped: v.LogsCut}
	if n := len(v.Attempts); n > 0 {
		o.Error = v.Attempts[n-1].Error
	}
	return o
}

func (b *bgfn) function(ctx context.Context, c *apiclient.Client, name string) (api.Function, error) {
	if name == "" {
		return api.Function{}, badArg("name", "give the name of a function (list_functions lists them)")
	}
	fns, err := c.Functions(ctx)
	if err != nil {
		return api.Function{}, err
	}
	names := make([]string, len(fns))
	for k, f := range fns {
		if f.Name == name {
			return f, nil
		}
		names[k] = f.Name
	}
	if len(names) == 0 {
		return api.Function{}, badArg("name", "no function %q: the site has no functions", name)
	}
	msg := fmt.Sprintf("no function %q", name)
	if near := textdist.Nearest(name, names, false); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return api.Function{}, badArg("name", "%s; the functions are %s", msg, strings.Join(names, ", "))
}

func parseWait(arg, s string, def, most time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, badArg(arg, "%q is not a positive Go duration such as 30s or 5m", s)
	}
	if d > most {
		return 0, badArg(arg, "%s is longer than the %s a tool waits at most: wait again with wait_invocation", d, most)
	}
	return d, nil
}

func decodeBody(arg, body string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, badArg(arg, "not valid base64 (%v); send text as it is, without %s_base64", err, arg)
	}
	return b, nil
}

func (b *bgfn) invokeFunction(ctx context.Context, c *apiclient.Client, in invokeIn) (invokeOut, string, error) {
	fn, err := b.function(ctx, c, in.Name)
	if err != nil {
		return invokeOut{}, "", err
	}
	wait, err := parseWait("wait_timeout", in.WaitTimeout, 5*time.Minute, 30*time.Minute)
	if err != nil {
		return invokeOut{}, "", err
	}
	body, err := decodeBody("body", in.Body, in.BodyBase64)
	if err != nil {
		return invokeOut{}, "", err
	}
	if in.Method != "" && !validMethod(in.Method) {
		return invokeOut{}, "", badArg("method", "%q is not an HTTP method such as GET or POST", in.Method)
	}
	header := http.Header{}
	for k, v := range in.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			return invokeOut{}, "", badArg("headers", "%q is not a header name with a one-line value", k)
		}
		header.Set(k, v)
	}
	if in.Path != "" && !strings.HasPrefix(in.Path, "/") {
		in.Path = "/" + in.Path
	}
	req, err := invoke.NewRequest(ctx, c.Base, discoverFunction(fn), invoke.Call{
		Method: in.Method, MethodSet: in.Method != "", Path: in.Path, Query: in.Query,
		Header: header, Body: body, Identity: in.Identity,
	})
	if err != nil {
		arg := "path"
		if in.Path == "" {
			arg = "name"
		}
		return invokeOut{}, "", badArg(arg, "%v", err)
	}
	a, err := c.Call(req, maxBody)
	if err != nil {
		return invokeOut{}, "", err
	}
	out := invokeOut{
		Function: fn.Name, Method: req.Method, Path: req.URL.RequestURI(), Status: a.Status,
		Headers: joinHeaders(a.Header), BodyBytes: a.Size, BodyTruncated: a.Truncated,
		InvocationID: a.ID, DurationMs: ms(a.Duration),
		Background: fn.Kind == string(discover.KindBackground) && a.Status == http.StatusAccepted,
	}
	out.Body, out.BodyEncoding = text(a.Body)
	if a.ID != "" {
		var v *records.View
		if out.Background && in.Wait {
			v, err = c.Wait(ctx, a.ID, wait)
		} else {
			v, err = c.Invocation(ctx, a.ID)
		}
		if err != nil {
			return out, "", err
		}
		out.Outcome = outcomeOf(v)
		if out.Background && in.Wait {
			out.DurationMs = v.DurationMs
		}
	}
	return out, invokeText(out, in.Wait, wait), nil
}

func invokeText(o invokeOut, waited bool, wait time.Duration) string {
	var t strings.Builder
	fmt.Fprintf(&t, "%s %s -> %d %s in %s", o.Method, o.Path, o.Status, http.StatusText(o.Status), fmtMs(o.DurationMs))
	if o.InvocationID != "" {
		fmt.Fprintf(&t, " (invocation %s)", o.InvocationID)
	}
	t.WriteString("\n")
	switch {
	case o.Background && !waited:
		t.WriteString("Background function accepted: it runs on. Follow it with wait_invocation, or call again with wait.\n")
	case o.Background && !o.Finished:
		fmt.Fprintf(&t, "Still %s after waiting %s: follow it with wait_invocation.\n", o.State, wait)
	case o.Background:
		fmt.Fprintf(&t, "Background run %s after %d attempt(s).\n", o.State, len(o.Attempts))
	}
	if o.Error != nil {
		fmt.Fprintf(&t, "Error: %s\n", o.Error.Error())
	}
	if !o.Background || o.BodyBytes > 0 {
		fmt.Fprintf(&t, "Body (%d bytes%s): %s\n", o.BodyBytes, cutNote(o.BodyTruncated), excerpt(o.Body, textBodyChars))
	}
	t.WriteString(logsText(o.Logs, o.LogsDropped))
	return strings.TrimSuffix(t.String(), "\n")
}

// discoverFunction is what invoke.NewRequest needs of a listed function.
func discoverFunction(f api.Function) discover.Function {
	return discover.Function{
		Name: f.Name, Kind: discover.Kind(f.Kind), Runtime: discover.Runtime(f.Runtime),
		Paths: f.Routes, ExcludedPaths: f.ExcludedRoutes, Methods: f.Methods, Schedule: f.Schedule,
	}
}

func validMethod(m string) bool {
	for _, r := range m {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-') {
			return false
		}
	}
	return m != ""
}

func joinHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// text returns b as a string with its encoding: utf-8 when it is text,
// else base64.
func text(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), "utf-8"
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// --- list_invocations

type listInvocationsIn struct {
	Function string `json:"function,omitempty" jsonschema:"only this function's invocations"`
	Status   string `json:"status,omitempty" jsonschema:"only invocations in this status: queued, running, retrying, succeeded, failed, timed_out, interrupted or cancelled"`
	Limit    int    `json:"limit,omitempty" jsonschema:"at most this many, newest first (default 20, at most 1000)"`
}

// Summary is one invocation in a list.
type Summary struct {
	ID         string         `json:"id"`
	Function   string         `json:"function"`
	Kind       string         `json:"kind"`
	Status     records.Status `json:"status"`
	Method     string         `json:"method"`
	Path       string         `json:"path"`
	StatusCode int            `json:"status_code,omitempty" jsonschema:"the HTTP status a synchronous invocation answered"`
	CreatedAt  time.Time      `json:"created_at"`
	DurationMs float64        `json:"duration_ms,omitempty"`
	Attempts   int            `json:"attempts"`
	Error      string         `json:"error,omitempty" jsonschema:"the last attempt's error"`
	ReplayOf   string         `json:"replay_of,omitempty"`
}

type listInvocationsOut struct {
	Invocations []Summary `json:"invocations"`
}

var statuses = records.Statuses

func (b *bgfn) listInvocations(ctx context.Context, c *apiclient.Client, in listInvocationsIn) (listInvocationsOut, string, error) {
	f := records.Filter{Function: in.Function, Status: records.Status(in.Status), Limit: in.Limit}
	if in.Status != "" && !containsStatus(f.Status) {
		names := make([]string, len(statuses))
		for k, s := range statuses {
			names[k] = string(s)
		}
		return listInvocationsOut{}, "", badArg("status", "%q is not a status; use one of %s", in.Status, strings.Join(names, ", "))
	}
	switch {
	case in.Limit == 0:
		f.Limit = 20
	case in.Limit < 0 || in.Limit > 1000:
		return listInvocationsOut{}, "", badArg("limit", "%d is out of range: use 1 to 1000", in.Limit)
	}
	vs, err := c.Invocations(ctx, f)
	if err != nil {
		return listInvocationsOut{}, "", err
	}
	out := listInvocationsOut{Invocations: make([]Summary, 0, len(vs))}
	var t strings.Builder
	fmt.Fprintf(&t, "%d invocation(s), newest first:\n", len(vs))
	for _, v := range vs {
		s := Summary{
			ID: v.ID, Function: v.Function, Kind: v.Kind, Status: v.Status, Method: v.Request.Method, Path: v.Request.Path,
			StatusCode: v.StatusCode, CreatedAt: v.CreatedAt, DurationMs: v.DurationMs, Attempts: len(v.Attempts), ReplayOf: v.ReplayOf,
		}
		if n := len(v.Attempts); n > 0 && v.Attempts[n-1].Error != nil {
			s.Error = v.Attempts[n-1].Error.Error()
		}
		out.Invocations = append(out.Invocations, s)
		fmt.Fprintf(&t, "- %s %s (%s) %s", s.ID, s.Function, s.Kind, s.Status)
		if s.StatusCode != 0 {
			fmt.Fprintf(&t, " %d", s.StatusCode)
		}
		if s.DurationMs > 0 {
			fmt.Fprintf(&t, " in %s", fmtMs(s.DurationMs))
		}
		if s.Error != "" {
			fmt.Fprintf(&t, ": %s", excerpt(s.Error, 200))
		}
		t.WriteString("\n")
	}
	return out, strings.TrimSuffix(t.String(), "\n"), nil
}

func containsStatus(s records.Status) bool {
	for _, x := range statuses {
		if x == s {
			return true
		}
	}
	return false
}

// --- get_invocation and wait_invocation

type getInvocationIn struct {
	ID string `json:"id" jsonschema:"the invocation's id (invoke_function and list_invocations give it)"`
}

type invocationOut struct {
	Invocation *records.View `json:"invocation" jsonschema:"the record: status, request, attempts with their errors, log lines"`
	Finished   bool          `json:"finished" jsonschema:"the invocation reached a final state"`
}

func checkID(id string) error {
	switch {
	case id == "":
		return badArg("id", "give an invocation id (list_invocations lists them)")
	case strings.ContainsAny(id, "/?#% "):
		return badArg("id", "%q is not an invocation id", id)
	}
	return nil
}

func (b *bgfn) getInvocation(ctx context.Context, c *apiclient.Client, in getInvocationIn) (invocationOut, string, error) {
	if err := checkID(in.ID); err != nil {
		return invocationOut{}, "", err
	}
	v, err := c.Invocation(ctx, in.ID)
	if err != nil {
		return invocationOut{}, "", notFound(err, in.ID)
	}
	return invocationOut{Invocation: v, Finished: v.Status.Final()}, recordText(v), nil
}

type waitInvocationIn struct {
	ID      string `json:"id" jsonschema:"the invocation's id"`
	Timeout string `json:"timeout,omitempty" jsonschema:"how long to wait, as a Go duration (default 30s, at most 30m); the call can be cancelled sooner"`
}

func (b *bgfn) waitInvocation(ctx context.Context, c *apiclient.Client, in waitInvocationIn) (invocationOut, string, error) {
	if err := checkID(in.ID); err != nil {
		return invocationOut{}, "", err
	}
	d, err := parseWait("timeout", in.Timeout, 30*time.Second, 30*time.Minute)
	if err != nil {
		return invocationOut{}, "", err
	}
	v, err := c.Wait(ctx, in.ID, d)
	if err != nil {
		return invocationOut{}, "", notFound(err, in.ID)
	}
	t := recordText(v)
	if !v.Status.Final() {
		t = fmt.Sprintf("Not finished after %s.\n%s", d, t)
	}
	return invocationOut{Invocation: v, Finished: v.Status.Final()}, t, nil
}

// notFound makes the API's 404 for an id an argument error.
func notFound(err error, id string) error {
	var se *apiclient.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return badArg("id", "%s", se.Message())
	}
	return err
}

func recordText(v *records.View) string {
	var t strings.Builder
	fmt.Fprintf(&t, "%s %s (%s): %s", v.ID, v.Function, v.Kind, v.Status)
	if v.StatusCode != 0 {
		fmt.Fprintf(&t, ", answered %d", v.StatusCode)
	}
	if v.DurationMs > 0 {
		fmt.Fprintf(&t, ", %s", fmtMs(v.DurationMs))
	}
	fmt.Fprintf(&t, ", %d of %d attempt(s)\n", len(v.Attempts), v.MaxAttempts)
	fmt.Fprintf(&t, "Request: %s %s", v.Request.Method, v.Request.Path)
	if v.Request.Query != "" {
		t.WriteString("?" + v.Request.Query)
	}
	t.WriteString("\n")
	for _, a := range v.Attempts {
		if a.Error != nil {
			fmt.Fprintf(&t, "Attempt %d %s: %s\n", a.N, a.Status, excerpt(a.Error.Error(), 500))
		}
	}
	if v.NextRetryAt != nil {
		fmt.Fprintf(&t, "Next retry at %s\n", v.NextRetryAt.Format(time.RFC3339))
	}
	t.WriteString(logsText(v.Logs, v.LogsCut))
	return strings.TrimSuffix(t.String(), "\n")
}

// --- replay_invocation

type replayIn struct {
	ID          string  `json:"id" jsonschema:"the invocation to run again"`
	Body        *string `json:"body,omitempty" jsonschema:"a new request body; without it the recorded one is sent"`
	BodyBase64  bool    `json:"body_base64,omitempty" jsonschema:"body is base64 of binary bytes"`
	Wait        bool    `json:"wait,omitempty" jsonschema:"for a background function: wait until the new run ends"`
	WaitTimeout string  `json:"wait_timeout,omitempty" jsonschema:"how long wait waits, as a Go duration (default 5m, at most 30m)"`
}

type replayOut struct {
	ID       string `json:"id" jsonschema:"the new invocation's id"`
	ReplayOf string `json:"replay_of"`
	Status   int    `json:"status" jsonschema:"what a synchronous replay answered, or 202 for a background one"`
	Body     string `json:"body,omitempty" jsonschema:"what a synchronous replay answered"`
	Outcome
}

func (b *bgfn) replayInvocation(ctx context.Context, c *apiclient.Client, in replayIn) (replayOut, string, error) {
	if err := checkID(in.ID); err != nil {
		return replayOut{}, "", err
	}
	wait, err := parseWait("wait_timeout", in.WaitTimeout, 5*time.Minute, 30*time.Minute)
	if err != nil {
		return replayOut{}, "", err
	}
	var body []byte
	if in.Body != nil {
		if body, err = decodeBody("body", *in.Body, in.BodyBase64); err != nil {
			return replayOut{}, "", err
		}
		if body == nil {
			body = []byte{}
		}
	}
	res, err := c.ReplayResult(ctx, in.ID, body)
	if err != nil {
		return replayOut{}, "", notFound(err, in.ID)
	}
	out := replayOut{ID: res.ID, ReplayOf: res.ReplayOf, Status: res.Status, Body: res.Body}
	var t strings.Builder
	fmt.Fprintf(&t, "Replayed %s as %s: %d %s\n", res.ReplayOf, res.ID, res.Status, http.StatusText(res.Status))
	if res.ID != "" {
		var v *records.View
		if res.Status == http.StatusAccepted && in.Wait {
			v, err = c.Wait(ctx, res.ID, wait)
		} else {
			v, err = c.Invocation(ctx, res.ID)
		}
		if err != nil {
			return out, "", err
		}
		out.Outcome = outcomeOf(v)
		t.WriteString(recordText(v))
	}
	return out, strings.TrimSuffix(t.String(), "\n"), nil
}

// --- cancel_invocation

type cancelIn struct {
	ID string `json:"id" jsonschema:"the background invocation to cancel (queued, running or retrying)"`
}

func (b *bgfn) cancelInvocation(ctx context.Context, c *apiclient.Client, in cancelIn) (invocationOut, string, error) {
	if err := checkID(in.ID); err != nil {
		return invocationOut{}, "", err
	}
	v, err := c.Cancel(ctx, in.ID)
	if err != nil {
		var se *apiclient.StatusError
		if errors.As(err, &se) && se.Status == http.StatusConflict {
			return invocationOut{}, "", badArg("id", "%s", se.Message())
		}
		return invocationOut{}, "", notFound(err, in.ID)
	}
	t := recordText(v)
	if !v.Status.Final() {
		t = "Cancelling: its instance is being stopped.\n" + t
	}
	return invocationOut{Invocation: v, Finished: v.Status.Final()}, t, nil
}

// --- tail_logs

type tailIn struct {
	Cursor   *int64 `json:"cursor,omitempty" jsonschema:"the next_cursor of the previous call; leave it out the first time to start at the oldest line held"`
	Function string `json:"function,omitempty" jsonschema:"only this function's lines"`
	Limit    int    `json:"limit,omitempty" jsonschema:"at most this many lines (default 200, at most 10000)"`
}

type tailOut struct {
	Lines      []records.TailLine `json:"lines" jsonschema:"the new lines, oldest first: seq, invocation id, function, time, attempt, stream, line"`
	NextCursor int64              `json:"next_cursor" jsonschema:"pass it as cursor on the next call"`
	Missed     int64              `json:"missed" jsonschema:"lines dropped before this call could return them (the server keeps the newest 10,000 of all functions)"`
	More       bool               `json:"more" jsonschema:"the limit cut this page: call again at once"`
	Reset      bool               `json:"reset,omitempty" jsonschema:"the cursor came from an earlier server (bgfn restarted): these lines start at the oldest of the new one"`
}

func (b *bgfn) tailLogs(ctx context.Context, c *apiclient.Client, in tailIn) (tailOut, string, error) {
	q := records.TailQuery{Function: in.Function, Limit: in.Limit}
	if in.Cursor != nil {
		if *in.Cursor < 0 {
			return tailOut{}, "", badArg("cursor", "%d is negative: pass the next_cursor of the previous call, or leave it out", *in.Cursor)
		}
		q.Since, q.HasSince = *in.Cursor, true
	}
	switch {
	case in.Limit == 0:
		q.Limit = textTailLines
	case in.Limit < 0 || in.Limit > api.MaxTailLimit:
		return tailOut{}, "", badArg("limit", "%d is out of range: use 1 to %d", in.Limit, api.MaxTailLimit)
	}
	tl, err := c.Logs(ctx, q)
	if err != nil {
		return tailOut{}, "", err
	}
	out := tailOut{Lines: tl.Lines, NextCursor: tl.Next, Missed: tl.Missed, More: tl.More, Reset: tl.Reset}
	var t strings.Builder
	fmt.Fprintf(&t, "%d new line(s); next cursor %d", len(tl.Lines), tl.Next)
	if tl.More {
		t.WriteString("; more are waiting: call again with it")
	}
	t.WriteString("\n")
	if tl.Missed > 0 {
		fmt.Fprintf(&t, "MISSED %d line(s): they were dropped before this call (poll more often, or filter by function)\n", tl.Missed)
	}
	if tl.Reset {
		t.WriteString("The cursor came from an earlier bgfn server: the lines start again at the oldest held.\n")
	}
	for k, l := range tl.Lines {
		if k == textTailLines {
			fmt.Fprintf(&t, "... and %d more in the structured result\n", len(tl.Lines)-k)
			break
		}
		fmt.Fprintf(&t, "%d %s#%s: %s\n", l.Seq, l.Function, records.ShortID(l.ID), l.Line)
	}
	return out, strings.TrimSuffix(t.String(), "\n"), nil
}

// --- get_config

type getConfigIn struct{}

type getConfigOut struct {
	Server string `json:"server" jsonschema:"base URL of the bgfn server"`
	api.Config
}

func (b *bgfn) getConfig(ctx context.Context, c *apiclient.Client, _ getConfigIn) (getConfigOut, string, error) {
	cfg, err := c.Config(ctx)
	if err != nil {
		return getConfigOut{}, "", err
	}
	keys := make([]string, len(cfg.Env))
	for k, e := range cfg.Env {
		keys[k] = e.Key
	}
	sort.Strings(keys)
	var t strings.Builder
	fmt.Fprintf(&t, "Site %s, functions in %s (from %s), served at %s\n", cfg.Site, cfg.FunctionsDir, cfg.FunctionsDirSource, c.Base)
	fmt.Fprintf(&t, "Environment variables (names only): %s\n", orNone(strings.Join(keys, ", ")))
	l := cfg.Limits
	fmt.Fprintf(&t, "Limits: sync %s, background %s, scheduled %s, init %s; bodies %d/%d bytes; %d instances per function, %d in all, idle ones stopped after %s; %d retries after %s",
		l.SyncTimeout, l.BackgroundTimeout, l.ScheduledTimeout, l.InitTimeout, l.SyncBodyBytes, l.BackgroundBodyBytes, l.MaxConcurrency, l.MaxInstances, l.IdleTimeout, l.Retries, strings.Join(l.RetryDelays, ", "))
	for _, w := range cfg.Warnings {
		t.WriteString("\nWarning: " + w)
	}
	return getConfigOut{Server: c.Base, Config: cfg}, t.String(), nil
}

// --- helpers for the text summaries

func logsText(logs []records.LogLine, dropped int) string {
	if len(logs) == 0 {
		return "No log lines.\n"
	}
	var t strings.Builder
	from := max(0, len(logs)-textLogLines)
	if from > 0 {
		fmt.Fprintf(&t, "Logs (%d lines, the last %d here, all in the structured result):\n", len(logs)+dropped, textLogLines)
	} else {
		fmt.Fprintf(&t, "Logs (%d lines):\n", len(logs)+dropped)
	}
	for _, l := range logs[from:] {
		fmt.Fprintf(&t, "  [%d %s] %s\n", l.Attempt, l.Stream, l.Line)
	}
	return t.String()
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d more bytes in the structured result)", len(s)-cut)
}

func cutNote(cut bool) string {
	if cut {
		return ", cut at 64 KB"
	}
	return ""
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fmtMs(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fs", v/1000)
	}
	return fmt.Sprintf("%.0fms", v)
}
