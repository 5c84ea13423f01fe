package smoke

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// observation is what a case's request brought back.
type observation struct {
	status int
	header http.Header
	body   []byte
	// took is what max_duration limits: the round trip of a request, or
	// for wait = true the invocation's duration on the server.
	took time.Duration
	// record is the invocation's record; recordErr says why there is none.
	record    *Record
	recordErr error

	parsed  bool
	json    any
	jsonErr error
}

// bodyJSON decodes the body once.
func (o *observation) bodyJSON() (any, error) {
	if !o.parsed {
		o.parsed = true
		o.json, o.jsonErr = decodeJSON(o.body)
	}
	return o.json, o.jsonErr
}

// Failure is one expectation a case did not meet.
type Failure struct {
	// Key names the expectation: status, body, json user.name, ….
	Key string `json:"key"`
	// Message says what was expected and what came, on one line.
	Message string `json:"message"`
	// Want and Got, when Diff is set, are shown as a diff.
	Want string `json:"-"`
	Got  string `json:"-"`
	Diff bool   `json:"-"`
}

func (f Failure) String() string { return f.Key + ": " + f.Message }

// check is one expectation.
type check interface {
	check(o *observation, vars map[string]string) *Failure
}

// statusOK is the expectation of a case that sets no status: a success.
type statusOK struct{}

func (statusOK) check(o *observation, _ map[string]string) *Failure {
	if o.status < 400 {
		return nil
	}
	return &Failure{Key: "status", Message: fmt.Sprintf("expected a success (below 400; set expect.status to expect another), got %s", statusText(o.status))}
}

type statusCheck struct{ want int }

func (c statusCheck) check(o *observation, _ map[string]string) *Failure {
	if o.status == c.want {
		return nil
	}
	return &Failure{Key: "status", Message: fmt.Sprintf("expected %s, got %s", statusText(c.want), statusText(o.status))}
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

type bodyEquals struct{ want text }

func (c bodyEquals) check(o *observation, vars map[string]string) *Failure {
	want := c.want.expand(vars)
	got := string(o.body)
	if got == want {
		return nil
	}
	f := &Failure{Key: "body", Want: want, Got: got, Diff: true}
	if oneLine(want) && oneLine(got) {
		f.Message = fmt.Sprintf("expected %s, got %s", quote(want), quote(got))
		f.Diff = false
	} else {
		f.Message = "differs from the expected body"
	}
	return f
}

type bodyContains struct{ want text }

func (c bodyContains) check(o *observation, vars map[string]string) *Failure {
	want := c.want.expand(vars)
	if strings.Contains(string(o.body), want) {
		return nil
	}
	return &Failure{Key: "body_contains", Message: fmt.Sprintf("the body does not contain %s", quote(want))}
}

type bodyMatches struct{ re *regexp.Regexp }

func (c bodyMatches) check(o *observation, _ map[string]string) *Failure {
	if c.re.Match(o.body) {
		return nil
	}
	return &Failure{Key: "body_matches", Message: fmt.Sprintf("the body does not match /%s/", c.re)}
}

type jsonCheck struct {
	path string
	want any
}

func (c jsonCheck) check(o *observation, vars map[string]string) *Failure {
	key := "json " + c.path
	v, err := o.bodyJSON()
	if err != nil {
		return &Failure{Key: key, Message: "the body is not JSON: " + err.Error()}
	}
	got, ok := lookup(v, c.path)
	if !ok {
		return &Failure{Key: key, Message: "no value at this path"}
	}
	want := expandTree(c.want, vars)
	if ok, where := match(want, got); !ok {
		msg := fmt.Sprintf("expected %s, got %s", compact(want), compact(got))
		if where != "" {
			msg += " (first difference at " + join(c.path, where) + ")"
		}
		return &Failure{Key: key, Message: msg}
	}
	return nil
}

type headerEquals struct {
	name string
	want text
}

func (c headerEquals) check(o *observation, vars map[string]string) *Failure {
	want := c.want.expand(vars)
	vals, ok := o.header[c.name]
	if !ok {
		return &Failure{Key: "header " + c.name, Message: fmt.Sprintf("missing, expected %s", quote(want))}
	}
	if got := strings.Join(vals, ", "); got != want {
		return &Failure{Key: "header " + c.name, Message: fmt.Sprintf("expected %s, got %s", quote(want), quote(got))}
	}
	return nil
}

type headerPresent struct{ name string }

func (c headerPresent) check(o *observation, _ map[string]string) *Failure {
	if _, ok := o.header[c.name]; ok {
		return nil
	}
	return &Failure{Key: "header_present", Message: c.name + " is missing"}
}

type maxDuration struct{ limit time.Duration }

func (c maxDuration) check(o *observation, _ map[string]string) *Failure {
	if o.took <= c.limit {
		return nil
	}
	return &Failure{Key: "max_duration", Message: fmt.Sprintf("took %s, over the limit of %s", fmtDuration(o.took), c.limit)}
}

type stateCheck struct {
	want string
	// implied is set for the check wait = true adds when the case sets no
	// state.
	implied bool
}

func (c stateCheck) check(o *observation, _ map[string]string) *Failure {
	if o.record == nil {
		return &Failure{Key: "state", Message: "no invocation record: " + errText(o.recordErr)}
	}
	if o.record.Status == c.want {
		return nil
	}
	msg := fmt.Sprintf("expected %s, got %s after %s", quote(c.want), quote(o.record.Status), plural(len(o.record.Attempts), "attempt"))
	if e := o.record.lastError(); e != nil {
		msg += ": " + e.String()
	}
	if c.implied {
		msg += " (wait = true expects succeeded unless expect.state says otherwise)"
	}
	return &Failure{Key: "state", Message: msg}
}

type attemptsCheck struct{ want int }

func (c attemptsCheck) check(o *observation, _ map[string]string) *Failure {
	if o.record == nil {
		return &Failure{Key: "attempts", Message: "no invocation record: " + errText(o.recordErr)}
	}
	if n := len(o.record.Attempts); n != c.want {
		return &Failure{Key: "attempts", Message: fmt.Sprintf("expected %d, got %d (of at most %d)", c.want, n, o.record.MaxAttempts)}
	}
	return nil
}

type logContains struct{ want text }

func (c logContains) check(o *observation, vars map[string]string) *Failure {
	want := c.want.expand(vars)
	if o.record == nil {
		return &Failure{Key: "log_contains", Message: "the invocation's log is not available: " + errText(o.recordErr)}
	}
	for _, l := range o.record.Logs {
		if strings.Contains(l.Line, want) {
			return nil
		}
	}
	return &Failure{Key: "log_contains", Message: fmt.Sprintf("no log line contains %s (of %s)", quote(want), plural(len(o.record.Logs), "line"))}
}

type logMatches struct{ re *regexp.Regexp }

func (c logMatches) check(o *observation, _ map[string]string) *Failure {
	if o.record == nil {
		return &Failure{Key: "log_matches", Message: "the invocation's log is not available: " + errText(o.recordErr)}
	}
	for _, l := range o.record.Logs {
		if c.re.MatchString(l.Line) {
			return nil
		}
	}
	return &Failure{Key: "log_matches", Message: fmt.Sprintf("no log line matches /%s/ (of %s)", c.re, plural(len(o.record.Logs), "line"))}
}

func errText(err error) string {
	if err == nil {
		return "the answer named none"
	}
	return err.Error()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func oneLine(s string) bool {
	return len(s) <= 80 && !strings.ContainsAny(s, "\r\n") && utf8.ValidString(s)
}

// quote shows a string in a message: JSON-quoted, cut when long.
func quote(s string) string {
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// fmtDuration shows a duration as bgfn does elsewhere: 12.3ms, 1.23s.
func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
