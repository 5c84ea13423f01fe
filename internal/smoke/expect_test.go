package smoke

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// TestExpectations checks each kind of expectation, as a smoke file
// writes it, against answers that meet it and answers that do not.
func TestExpectations(t *testing.T) {
	jsonAnswer := &observation{
		status: 200,
		header: http.Header{"Content-Type": {"application/json"}, "X-Greeting": {"hello"}, "Set-Cookie": {"a=1", "b=2"}},
		body:   []byte(`{"greeting":"Hello, Ada!","name":"Ada","count":2,"ratio":0.5,"ok":true,"tags":["new","friendly"],"user":{"id":1234567890123456789,"roles":["admin"]}}`),
		took:   120 * time.Millisecond,
		record: &Record{Status: "succeeded", Logs: []LogLine{{Line: "greeting Ada"}, {Line: "done in 3 ms"}}},
	}
	failedRun := &observation{
		status: 202, header: http.Header{}, took: 2 * time.Second,
		record: &Record{Status: "failed", MaxAttempts: 3, Attempts: []Attempt{{N: 1}, {N: 2}, {N: 3, Error: &FunctionError{Type: "Error", Message: "always fails"}}}, Logs: []LogLine{{Attempt: 1, Line: "attempt 1"}, {Attempt: 3, Line: "attempt 3"}}},
	}
	noRecord := &observation{status: 200, header: http.Header{}, body: []byte("hi"), recordErr: errTest}
	vars := map[string]string{"name": "Ada", "id": "12345678901234567890"}

	tests := []struct {
		name   string
		expect string // the [case.expect] table
		wait   bool
		obs    *observation
		want   []string // "key: message substring", none to pass
	}{
		{"default status passes", ``, false, jsonAnswer, nil},
		{"default status fails", ``, false, &observation{status: 500, header: http.Header{}}, []string{"status: expected a success (below 400; set expect.status to expect another), got 500 Internal Server Error"}},
		{"status passes", `status = 200`, false, jsonAnswer, nil},
		{"status fails", `status = 201`, false, jsonAnswer, []string{"status: expected 201 Created, got 200 OK"}},
		{"status lifts the default", `status = 500`, false, &observation{status: 500, header: http.Header{}}, nil},
		{"body passes", `body = "hi"`, false, noRecord, nil},
		{"body fails on one line", `body = "ho"`, false, noRecord, []string{`body: expected "ho", got "hi"`}},
		{"body fails with a diff", "body = \"\"\"\na\nb\n\"\"\"", false, &observation{status: 200, body: []byte("a\nc\n")}, []string{"body: differs from the expected body"}},
		{"body with a variable", `body = "${name}"`, false, &observation{status: 200, body: []byte("Ada")}, nil},
		{"body_contains passes", `body_contains = ["Hello", "${name}"]`, false, jsonAnswer, nil},
		{"body_contains fails", `body_contains = ["Hello", "Grace"]`, false, jsonAnswer, []string{`body_contains: the body does not contain "Grace"`}},
		{"body_matches passes", `body_matches = '"count":\d+'`, false, jsonAnswer, nil},
		{"body_matches fails", `body_matches = '^\['`, false, jsonAnswer, []string{`body_matches: the body does not match /^\[/`}},
		{"json passes", `json = { greeting = "Hello, Ada!", count = 2, ratio = 0.5, ok = true, "tags.1" = "friendly", user.roles = ["admin"] }`, false, jsonAnswer, nil},
		{"json numbers fail exactly", `json = { "user.id" = 1234567890123456788 }`, false, jsonAnswer, []string{"json user.id: expected 1234567890123456788, got 1234567890123456789"}},
		{"json numbers compare as numbers", `json = { count = 2.0, "user.id" = 1234567890123456789 }`, false, jsonAnswer, nil},
		{"json with a variable", `json = { name = "${name}" }`, false, jsonAnswer, nil},
		{"json objects match on the keys given", `json = { user = { roles = ["admin"] } }`, false, jsonAnswer, nil},
		{"json fails on a value", `json = { name = "Grace" }`, false, jsonAnswer, []string{`json name: expected "Grace", got "Ada"`}},
		{"json fails on a type", `json = { count = "2" }`, false, jsonAnswer, []string{`json count: expected "2", got 2`}},
		{"json fails on an array length", `json = { tags = ["new"] }`, false, jsonAnswer, []string{`json tags: expected ["new"], got ["new","friendly"]`}},
		{"json fails deep", `json = { user = { roles = ["user"] } }`, false, jsonAnswer, []string{`json user: expected {"roles":["user"]}, got {"id":1234567890123456789,"roles":["admin"]} (first difference at user.roles.0)`}},
		{"json fails on a missing path", `json = { "tags.5" = "x" }`, false, jsonAnswer, []string{"json tags.5: no value at this path"}},
		{"json fails on a body that is not JSON", `json = { a = 1 }`, false, noRecord, []string{"json a: the body is not JSON"}},
		{"headers pass", `headers = { x-greeting = "hello", "Set-Cookie" = "a=1, b=2" }`, false, jsonAnswer, nil},
		{"headers fail on a value", `headers = { X-Greeting = "bye" }`, false, jsonAnswer, []string{`header X-Greeting: expected "bye", got "hello"`}},
		{"headers fail on a missing header", `headers = { X-Nope = "1" }`, false, jsonAnswer, []string{`header X-Nope: missing, expected "1"`}},
		{"header_present passes", `header_present = ["content-type", "X-Greeting"]`, false, jsonAnswer, nil},
		{"header_present fails", `header_present = "Location"`, false, jsonAnswer, []string{"header_present: Location is missing"}},
		{"max_duration passes", `max_duration = "500ms"`, false, jsonAnswer, nil},
		{"max_duration fails", `max_duration = "100ms"`, false, jsonAnswer, []string{"max_duration: took 120.0ms, over the limit of 100ms"}},
		{"log_contains passes", `log_contains = ["greeting ${name}", "done"]`, false, jsonAnswer, nil},
		{"log_contains fails", `log_contains = "greeting Grace"`, false, jsonAnswer, []string{`log_contains: no log line contains "greeting Grace" (of 2 lines)`}},
		{"log_contains without a record", `log_contains = "x"`, false, noRecord, []string{"log_contains: the invocation's log is not available: test"}},
		{"log_matches passes", `log_matches = '^done in \d+ ms$'`, false, jsonAnswer, nil},
		{"log_matches fails", `log_matches = '^done in \d+ s$'`, false, jsonAnswer, []string{`log_matches: no log line matches /^done in \d+ s$/ (of 2 lines)`}},
		{"state passes", `state = "failed"`, true, failedRun, nil},
		{"state fails", `state = "succeeded"`, true, failedRun, []string{`state: expected "succeeded", got "failed" after 3 attempts: Error: always fails`}},
		{"wait expects succeeded", ``, true, failedRun, []string{`state: expected "succeeded", got "failed" after 3 attempts: Error: always fails (wait = true expects succeeded`}},
		{"attempts pass", `attempts = 3` + "\n" + `state = "failed"`, true, failedRun, nil},
		{"attempts fail", `attempts = 1` + "\n" + `state = "failed"`, true, failedRun, []string{"attempts: expected 1, got 3 (of at most 3)"}},
		{"log of every attempt", `log_contains = "attempt 3"` + "\n" + `state = "failed"`, true, failedRun, nil},
		{"several failures", `status = 201` + "\n" + `body_contains = "Grace"`, false, jsonAnswer, []string{"status: expected 201", "body_contains: the body does not contain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "[[case]]\nname = \"c\"\nfunction = \"create-item\"\n[case.capture]\nname = { json = \"name\" }\nid = { json = \"id\" }\n\n[[case]]\nfunction = \"get-item\"\n"
			if tt.wait {
				src = "[[case]]\nname = \"c\"\nfunction = \"create-item\"\n[case.capture]\nname = { json = \"name\" }\n\n[[case]]\nfunction = \"flaky-background\"\nwait = true\n"
			}
			src += "[case.expect]\n" + tt.expect + "\n"
			s, err := Parse("smoke.toml", []byte(src), testSite)
			if err != nil {
				t.Fatal(err)
			}
			var got []Failure
			for _, ch := range s.Cases[1].checks {
				o := *tt.obs
				if f := ch.check(&o, vars); f != nil {
					got = append(got, *f)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("failures %v, want %d: %v", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("failure %d = %q, want it to contain %q", i, got[i].String(), w)
				}
			}
		})
	}
}

var errTest = testError("test")

type testError string

func (e testError) Error() string { return string(e) }

// TestRecordWire checks that Record reads what the server sends: the JSON
// of a records.View.
func TestRecordWire(t *testing.T) {
	now := time.Now()
	rec := &records.View{
		ID: "0123456789abcdef0123", Function: "flaky-background", Kind: "background", Status: records.Failed,
		DurationMs: 1234.5, MaxAttempts: 3,
		Attempts: []records.Attempt{{N: 1, Status: records.Failed, StartedAt: now, Error: &records.Error{Type: "Error", Message: "boom"}}},
		Logs:     []records.LogLine{{Time: now, Attempt: 1, Stream: "stdout", Line: "attempt 1"}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got Record
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := Record{
		ID: "0123456789abcdef0123", Function: "flaky-background", Status: "failed", DurationMs: 1234.5, MaxAttempts: 3,
		Attempts: []Attempt{{N: 1, Status: "failed", Error: &FunctionError{Type: "Error", Message: "boom"}}},
		Logs:     []LogLine{{Attempt: 1, Stream: "stdout", Line: "attempt 1"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v,\nwant %+v", got, want)
	}
	if !got.Final() {
		t.Error("a failed record is not Final")
	}
	for _, s := range []records.Status{records.Queued, records.Running, records.Retrying} {
		if (&Record{Status: string(s)}).Final() {
			t.Errorf("%s is Final", s)
		}
	}
	for _, s := range finalStates {
		if !records.Status(s).Final() {
			t.Errorf("expect.state takes %q, which records does not count as final", s)
		}
	}
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		diff      []string
	}{
		{"one line changed", "a\nb\nc\n", "a\nx\nc\n", []string{" a", "-b", "+x", " c"}},
		{"line added", "a\n", "a\nb\n", []string{" a", "+b"}},
		{"missing newline", "a\n", "a", []string{" a", `+\ no newline at the end`}},
		{"far context cut", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\n5\n6\n7\n8\nX\n", []string{"~…", " 6", " 7", " 8", "-9", "+X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range lineDiff(tt.want, tt.got) {
				got = append(got, string(l.op)+l.text)
			}
			if !reflect.DeepEqual(got, tt.diff) {
				t.Errorf("diff %q, want %q", got, tt.diff)
			}
		})
	}
}
