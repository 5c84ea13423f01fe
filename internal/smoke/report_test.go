package smoke

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

// sampleResults are one result of each outcome, with fixed timings.
func sampleResults(t *testing.T) (*Suite, []*Result) {
	t.Helper()
	s := mustParse(t, `
[[case]]
name = "greets"
function = "hello"

[[case]]
name = "reads the item"
function = "get-item"
[case.expect]
status = 200
body = """
{"name":"Ada"}
"""

[[case]]
name = "retried"
function = "flaky-background"
wait = true

[[case]]
name = "slow"
function = "hello"
timeout = "1s"

[[case]]
name = "create"
function = "create-item"
[case.capture]
id = { json = "id" }

[[case]]
name = "uses the id"
function = "get-item"
query = "id=${id}"
`)
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := s.Cases
	return s, []*Result{
		{Case: c[0], Outcome: Passed, Started: start, Duration: 12 * time.Millisecond, Status: 200, Body: []byte("hi"), Header: http.Header{"X-A": {"1"}}, InvocationID: "id0",
			Record: &Record{Status: "succeeded", MaxAttempts: 1, Logs: []LogLine{{Attempt: 1, Line: "greeting Ada"}}}},
		{Case: c[1], Outcome: Failed, Started: start, Duration: 30 * time.Millisecond, Status: 200, Body: []byte(`{"name":"Bob"}`),
			Failures: []Failure{{Key: "body", Message: "differs from the expected body", Want: "{\"name\":\"Ada\"}\n", Got: `{"name":"Bob"}`, Diff: true}},
			Record:   &Record{Status: "succeeded", MaxAttempts: 1, Logs: []LogLine{{Attempt: 1, Line: "reading <item> & more"}}}},
		{Case: c[2], Outcome: Failed, Started: start.Add(10 * time.Millisecond), Duration: 1500 * time.Millisecond, Status: 202,
			Failures: []Failure{{Key: "state", Message: `expected "succeeded", got "failed" after 3 attempts: Error: boom`}},
			Record:   &Record{Status: "failed", MaxAttempts: 3, Logs: []LogLine{{Attempt: 1, Line: "attempt 1"}, {Attempt: 3, Line: "attempt 3"}}}},
		{Case: c[3], Outcome: Errored, Started: start, Duration: time.Second, Err: errors.New("timed out after 1s")},
		{Case: c[4], Outcome: Failed, Started: start, Duration: 5 * time.Millisecond, Status: 500, Body: []byte("Error: kaboom\n at x.js:1"),
			Failures: []Failure{{Key: "status", Message: "expected a success, got 500 Internal Server Error"}}},
		{Case: c[5], Outcome: Skipped, Started: start, Err: errors.New(`needs ${id}, which "create" did not capture (it failed)`)},
	}
}

func TestHumanPlain(t *testing.T) {
	_, results := sampleResults(t)
	var buf bytes.Buffer
	h := NewHuman(&buf, ui.NewStyles(&buf, false), false, true, len(results))
	for _, r := range results {
		h.Start(r.Case)
		h.Finish(r)
	}
	h.Summary(results, 1234*time.Millisecond, "in-process runtime")
	want := `PASS greets (12.0ms)
FAIL reads the item (30.0ms) smoke.toml:6
    body: differs from the expected body
      --- expected
      +++ got
      -{"name":"Ada"}
      +{"name":"Bob"}
      +\ no newline at the end
    logs:
      | reading <item> & more
FAIL retried (1.50s) smoke.toml:15
    state: expected "succeeded", got "failed" after 3 attempts: Error: boom
    logs:
      attempt 1 | attempt 1
      attempt 3 | attempt 3
ERROR slow (1.00s) smoke.toml:20
    error: timed out after 1s
FAIL create (5.0ms) smoke.toml:25
    status: expected a success, got 500 Internal Server Error
    answer: 500 Internal Server Error
      Error: kaboom
       at x.js:1
SKIP uses the id: needs ${id}, which "create" did not capture (it failed)

6 cases: 1 passed, 3 failed, 1 could not run, 1 skipped in 1.23s (in-process runtime)
`
	if got := buf.String(); got != want {
		t.Errorf("plain report:\n%s\nwant:\n%s", got, want)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestHumanTTY(t *testing.T) {
	for _, color := range []bool{true, false} {
		t.Run(map[bool]string{true: "colour", false: "no colour"}[color], func(t *testing.T) {
			_, results := sampleResults(t)
			var buf bytes.Buffer
			h := NewHuman(&buf, ui.NewStyles(&buf, color), true, true, len(results))
			h.Start(results[0].Case)
			h.Start(results[1].Case)
			if got := screen(buf.String()); got != "… 0/6 done · running greets, reads the item" {
				t.Errorf("status line %q, want the running cases, drawn over", got)
			}
			h.Finish(results[0])
			if got := screen(buf.String()); got != "✔ greets  12.0ms\n… 1/6 done · running reads the item" {
				t.Errorf("after a case: %q, want its line above the status line", got)
			}
			h.Finish(results[1])
			h.Summary(results[:2], 50*time.Millisecond, "")
			out := buf.String()
			want := `✔ greets  12.0ms
✖ reads the item  30.0ms  smoke.toml:6
    body: differs from the expected body
      --- expected
      +++ got
      -{"name":"Ada"}
      +{"name":"Bob"}
      +\ no newline at the end
    logs:
      | reading <item> & more

2 cases: 1 passed, 1 failed in 50.0ms
`
			if got := screen(out); got != want {
				t.Errorf("screen:\n%s\nwant:\n%s", got, want)
			}
			if hasColor := ansi.MatchString(out); hasColor != color {
				t.Errorf("colour escapes: %v, want %v", hasColor, color)
			}
			if rest := strings.ReplaceAll(ansi.ReplaceAllString(out, ""), "\r\x1b[2K", ""); strings.Contains(rest, "\x1b") {
				t.Errorf("escapes other than colour and line clearing: %q", out)
			}
		})
	}
}

// screen is what a terminal shows of out: each line from its last
// carriage return and line clear, colour removed.
func screen(out string) string {
	lines := strings.Split(ansi.ReplaceAllString(out, ""), "\n")
	for i, l := range lines {
		if k := strings.LastIndex(l, "\r\x1b[2K"); k >= 0 {
			lines[i] = l[k+len("\r\x1b[2K"):]
		}
	}
	return strings.Join(lines, "\n")
}

func TestHumanPlainHasNoEscapes(t *testing.T) {
	_, results := sampleResults(t)
	var buf bytes.Buffer
	h := NewHuman(&buf, ui.NewStyles(&buf, false), false, true, len(results))
	for _, r := range results {
		h.Start(r.Case)
		h.Finish(r)
	}
	h.Summary(results, time.Second, "")
	if strings.ContainsAny(buf.String(), "\x1b\r") {
		t.Errorf("piped report has escapes or carriage returns: %q", buf.String())
	}
}

func TestJSONLines(t *testing.T) {
	_, results := sampleResults(t)
	var buf bytes.Buffer
	j := NewJSONLines(&buf)
	for _, r := range results {
		j.Start(r.Case)
		j.Finish(r)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(results) {
		t.Fatalf("%d lines, want one per case:\n%s", len(lines), buf.String())
	}
	var got []CaseJSON
	for _, l := range lines {
		var c CaseJSON
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, c)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"outcome", got[0].Outcome, Passed},
		{"file and line", []any{got[1].File, got[1].Line}, []any{"smoke.toml", 6}},
		{"duration", got[0].DurationMs, 12.0},
		{"body", got[0].Body, "hi"},
		{"logs", got[0].Logs[0].Line, "greeting Ada"},
		{"invocation", got[0].InvocationID, "id0"},
		{"failures", got[1].Failures[0].Key, "body"},
		{"state of a wait", []any{got[2].State, got[2].Function}, []any{"failed", "flaky-background"}},
		{"error", got[3].Error, "timed out after 1s"},
		{"skipped", got[5].Outcome, Skipped},
	}
	for _, c := range checks {
		if !slices.Equal([]string{jsonText(c.got)}, []string{jsonText(c.want)}) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// junitSchema is what Jenkins' junit-10.xsd (the schema GitHub's JUnit
// reporters, GitLab and Jenkins accept) allows: each element's
// attributes, the required ones marked with *, and its children.
var junitSchema = map[string]struct {
	attrs    []string
	children []string
}{
	"testsuites": {[]string{"name", "time", "tests", "failures", "errors"}, []string{"testsuite"}},
	"testsuite":  {[]string{"name*", "tests*", "failures*", "errors*", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"}, []string{"testsuite", "properties", "testcase", "system-out", "system-err"}},
	"testcase":   {[]string{"name*", "time", "classname", "group"}, []string{"skipped", "error", "failure", "system-out", "system-err"}},
	"failure":    {[]string{"type", "message"}, nil},
	"error":      {[]string{"type", "message"}, nil},
	"skipped":    {[]string{"type", "message"}, nil},
	"system-out": {nil, nil},
}

// surefireTime is the schema's pattern for time attributes.
var surefireTime = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)

// TestJUnitSchema parses the report back token by token and checks every
// element and attribute against the schema.
func TestJUnitSchema(t *testing.T) {
	s, results := sampleResults(t)
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, []*Suite{s}, results, 1234*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60q", buf.String())
	}
	dec := xml.NewDecoder(&buf)
	var stack []string
	seen := map[string]int{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse the report: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			seen[name]++
			spec, ok := junitSchema[name]
			if !ok {
				t.Errorf("element <%s> is not in the schema", name)
				continue
			}
			if len(stack) == 0 && name != "testsuites" {
				t.Errorf("root element <%s>, want <testsuites>", name)
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				if !slices.Contains(junitSchema[parent].children, name) {
					t.Errorf("<%s> inside <%s> is not in the schema", name, parent)
				}
			}
			got := map[string]string{}
			for _, a := range tok.Attr {
				got[a.Name.Local] = a.Value
				if !slices.Contains(spec.attrs, a.Name.Local) && !slices.Contains(spec.attrs, a.Name.Local+"*") {
					t.Errorf("<%s %s=…> is not in the schema", name, a.Name.Local)
				}
				if a.Name.Local == "time" && !surefireTime.MatchString(a.Value) {
					t.Errorf("<%s time=%q> does not match the schema's pattern", name, a.Value)
				}
			}
			for _, a := range spec.attrs {
				if req, ok := strings.CutSuffix(a, "*"); ok {
					if _, has := got[req]; !has {
						t.Errorf("<%s> lacks the required attribute %s", name, req)
					}
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	for _, want := range []string{"testsuites", "testsuite", "testcase", "failure", "error", "skipped", "system-out"} {
		if seen[want] == 0 {
			t.Errorf("the report has no <%s>", want)
		}
	}
}

// TestJUnitContent parses the report back into structs and checks what
// CI systems show.
func TestJUnitContent(t *testing.T) {
	s, results := sampleResults(t)
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, []*Suite{s}, results, 1234*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("parse back: %v\n%s", err, buf.String())
	}
	if doc.Tests != 6 || doc.Failures != 3 || doc.Errors != 1 || doc.Time != "1.234" {
		t.Errorf("testsuites tests=%d failures=%d errors=%d time=%s, want 6 3 1 1.234", doc.Tests, doc.Failures, doc.Errors, doc.Time)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(doc.Suites))
	}
	ts := doc.Suites[0]
	if ts.Name != "smoke.toml" || ts.File != "smoke.toml" || ts.Tests != 6 || ts.Failures != 3 || ts.Errors != 1 || ts.Skipped != 1 || ts.Timestamp != "2025-01-02T03:04:05" || ts.Time != "1.510" {
		t.Errorf("testsuite %+v", ts)
	}
	c := ts.Cases
	if c[0].Name != "greets" || c[0].Classname != "hello" || c[0].Time != "0.012" || c[0].Failure != nil || c[0].SystemOut != "" {
		t.Errorf("passing testcase %+v: want no failure and no system-out", c[0])
	}
	if f := c[1].Failure; f == nil || f.Message != "body: differs from the expected body" || !strings.Contains(f.Text, "-{\"name\":\"Ada\"}") || !strings.HasSuffix(f.Text, "at smoke.toml:6") {
		t.Errorf("body failure %+v", f)
	}
	if c[1].SystemOut != "| reading <item> & more" {
		t.Errorf("system-out %q, want the log (escaped on the way out, whole on the way back)", c[1].SystemOut)
	}
	if c[2].SystemOut != "attempt 1 | attempt 1\nattempt 3 | attempt 3" {
		t.Errorf("system-out of a background case %q", c[2].SystemOut)
	}
	if e := c[3].Error; e == nil || e.Message != "timed out after 1s" || c[3].Failure != nil {
		t.Errorf("errored testcase %+v", c[3])
	}
	if sk := c[5].Skipped; sk == nil || !strings.Contains(sk.Message, "needs ${id}") {
		t.Errorf("skipped testcase %+v", c[5])
	}
}

func TestAnnotation(t *testing.T) {
	tests := []struct {
		name             string
		file, title, msg string
		line             int
		want             string
	}{
		{"plain", "smoke.toml", "bgfn smoke: greets", "status: expected 200 OK, got 500", 3,
			"::error file=smoke.toml,line=3,title=bgfn smoke%3A greets::status: expected 200 OK, got 500"},
		{"newlines in the message", "smoke.toml", "t", "a\nb\r\nc", 1, "::error file=smoke.toml,line=1,title=t::a%0Ab%0D%0Ac"},
		{"percent first", "s.toml", "100%", "50% done", 1, "::error file=s.toml,line=1,title=100%25::50%25 done"},
		{"commas and colons in properties", "a,b:c.toml", "x, y: z", "x, y: z", 2, "::error file=a%2Cb%3Ac.toml,line=2,title=x%2C y%3A z::x, y: z"},
		{"an escape that is text", "s.toml", "%0A", "%0A", 1, "::error file=s.toml,line=1,title=%250A::%250A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Annotation(tt.file, tt.line, tt.title, tt.msg); got != tt.want {
				t.Errorf("Annotation = %q,\nwant %q", got, tt.want)
			}
		})
	}
}

func TestGitHubReporter(t *testing.T) {
	dir := t.TempDir()
	s, results := sampleResults(t)
	for _, c := range s.Cases {
		c.File = filepath.Join(dir, "site", "smoke.toml")
	}
	var buf bytes.Buffer
	g := NewGitHub(&buf, dir)
	for _, r := range results {
		g.Start(r.Case)
		g.Finish(r)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		"::error file=site/smoke.toml,line=6,title=bgfn smoke%3A reads the item::body: differs from the expected body",
		`::error file=site/smoke.toml,line=15,title=bgfn smoke%3A retried::state: expected "succeeded", got "failed" after 3 attempts: Error: boom`,
		"::error file=site/smoke.toml,line=20,title=bgfn smoke%3A slow::error: timed out after 1s",
		"::error file=site/smoke.toml,line=25,title=bgfn smoke%3A create::status: expected a success, got 500 Internal Server Error%0Aanswer: 500 Internal Server Error",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got := repoPath("/elsewhere/smoke.toml", dir); got != "/elsewhere/smoke.toml" {
		t.Errorf("a file outside the workspace: %q, want it unchanged", got)
	}
}
