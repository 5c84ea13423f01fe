package smoke

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// The JUnit XML report, in the form Jenkins' junit-10.xsd describes and
// GitHub Actions reporters, GitLab and Jenkins read: testsuites, a
// testsuite per smoke file, a testcase per case with a failure, error or
// skipped element, and the invocation's log of a failed case in its
// system-out. testcase has no file or line attribute in that schema, so
// the failure text says where the case is.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	File      string      `xml:"file,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitOutcome `xml:"failure,omitempty"`
	Error     *junitOutcome `xml:"error,omitempty"`
	Skipped   *junitOutcome `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitOutcome struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the JUnit XML report of a run: results in file order
// (as Runner.Run returns them), grouped by suite.
func WriteJUnit(w io.Writer, suites []*Suite, results []*Result, took time.Duration) error {
	doc := junitSuites{Name: "bgfn smoke", Time: seconds(took)}
	byCase := make(map[*Case]*Result, len(results))
	for _, r := range results {
		byCase[r.Case] = r
	}
	for _, s := range suites {
		js := junitSuite{Name: s.File, File: s.File}
		var start, end time.Time
		for _, c := range s.Cases {
			r, ok := byCase[c]
			if !ok {
				continue
			}
			if start.IsZero() || r.Started.Before(start) {
				start = r.Started
			}
			if e := r.Started.Add(r.Duration); e.After(end) {
				end = e
			}
			js.Cases = append(js.Cases, junitTestcase(r))
			js.Tests++
			switch r.Outcome {
			case Failed:
				js.Failures++
			case Errored:
				js.Errors++
			case Skipped:
				js.Skipped++
			}
		}
		if !start.IsZero() {
			js.Timestamp = start.UTC().Format("2006-01-02T15:04:05")
			js.Time = seconds(end.Sub(start))
		} else {
			js.Time = seconds(0)
		}
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		doc.Errors += js.Errors
		doc.Suites = append(doc.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitTestcase(r *Result) junitCase {
	c := r.Case
	jc := junitCase{Name: c.Name, Classname: c.Target(), Time: seconds(r.Duration)}
	where := fmt.Sprintf("%s:%d", c.File, c.Line)
	switch r.Outcome {
	case Failed, Errored:
		var lines []string
		for _, d := range explain(r, false) {
			lines = append(lines, strings.Repeat("  ", d.depth)+d.text)
		}
		lines = append(lines, "at "+where)
		o := &junitOutcome{Message: summary(r), Text: strings.Join(lines, "\n")}
		if r.Outcome == Failed {
			o.Type = "expectation"
			jc.Failure = o
		} else {
			o.Type = "error"
			jc.Error = o
		}
		if r.Record != nil {
			jc.SystemOut = strings.Join(logLines(r.Record), "\n")
		}
	case Skipped:
		jc.Skipped = &junitOutcome{Message: r.Err.Error()}
	}
	return jc
}

// summary is a failed case's first reason, on one line.
func summary(r *Result) string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case len(r.Failures) == 1:
		return r.Failures[0].String()
	case len(r.Failures) > 1:
		return fmt.Sprintf("%s (and %d more)", r.Failures[0], len(r.Failures)-1)
	}
	return string(r.Outcome)
}

// seconds is a JUnit time: seconds with three decimals, no exponent.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
