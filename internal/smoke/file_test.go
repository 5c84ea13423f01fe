package smoke

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/discover"
)

var testSite = &Site{Functions: []discover.Function{
	{Name: "hello", Kind: discover.KindSync},
	{Name: "gated", Kind: discover.KindSync},
	{Name: "create-item", Kind: discover.KindSync},
	{Name: "get-item", Kind: discover.KindSync},
	{Name: "flaky-background", Kind: discover.KindBackground},
	{Name: "nightly", Kind: discover.KindScheduled},
	{Name: "item", Kind: discover.KindSync, Paths: []string{"/api/items/:id"}},
}}

// TestParseErrors checks that every kind of mistake in a smoke file is an
// error naming the file, the line and the key.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantKey  string
		wantMsg  string
	}{
		{"syntax", "[[case]]\nfunction = \"hello\nname = 1\n", 2, "", "newline"},
		{"no cases", "# nothing yet\n", 0, "", "no cases"},
		{"unknown top-level key", "title = \"x\"\n[[case]]\nfunction = \"hello\"\n", 1, "title", "unknown key"},
		{"case is a table", "[case]\nfunction = \"hello\"\n", 1, "case", "[[case]] table"},
		{"cases inline", "case = [{function = \"hello\"}]\n", 1, "case", "[[case]] table"},
		{"unknown case key", "[[case]]\nfunction = \"hello\"\nmethdo = \"GET\"\n", 3, "case.methdo", `unknown key (did you mean "method"?)`},
		{"unknown key in the second case", "[[case]]\nfunction = \"hello\"\n[case.expect]\nstatus = 200\n\n[[case]]\nfunction = \"hello\"\n[case.expect]\nstauts = 200\n", 9, "case.expect.stauts", `did you mean "status"?`},
		{"unknown dotted expect key", "[[case]]\nfunction = \"hello\"\nexpect.bodycontains = \"x\"\n", 3, "case.expect.bodycontains", `did you mean "body_contains"?`},
		{"wrong type", "[[case]]\nfunction = \"hello\"\n[case.expect]\nstatus = \"200\"\n", 4, "case.expect.status", "expected an integer, got a string"},
		{"wrong type in the third case", "[[case]]\nfunction = \"hello\"\n[[case]]\nfunction = \"hello\"\n[[case]]\nfunction = \"hello\"\nwait = \"yes\"\n", 7, "case.wait", "expected true or false, got a string"},
		{"status out of range", "[[case]]\nfunction = \"hello\"\nexpect = { status = 42 }\n", 3, "case.expect.status", "not an HTTP status"},
		{"no target", "[[case]]\nname = \"nothing\"\n", 1, "case", "needs function"},
		{"function and path", "[[case]]\nfunction = \"hello\"\npath = \"/x\"\n", 3, "case.path", "not both"},
		{"unknown function", "[[case]]\n\nfunction = \"helo\"\n", 3, "case.function", `no function "helo": did you mean "hello"? (the site has: hello, `},
		{"function with custom paths", "[[case]]\nfunction = \"item\"\n", 2, "case.function", `use path = "/api/items/:id"`},
		{"path without slash", "[[case]]\npath = \"api\"\n", 2, "case.path", "must start with /"},
		{"bad method", "[[case]]\nfunction = \"hello\"\nmethod = \"GE T\"\n", 3, "case.method", "invalid HTTP method"},
		{"wait on a sync function", "[[case]]\nfunction = \"hello\"\nwait = true\n", 3, "case.wait", "not a background function"},
		{"state without wait", "[[case]]\nfunction = \"flaky-background\"\n[case.expect]\nstate = \"failed\"\n", 4, "case.expect.state", "needs wait = true"},
		{"attempts without wait", "[[case]]\nfunction = \"flaky-background\"\n[case.expect]\nattempts = 2\n", 4, "case.expect.attempts", "needs wait = true"},
		{"background log without wait", "[[case]]\nfunction = \"flaky-background\"\n[case.expect]\nlog_contains = \"x\"\n", 4, "case.expect.log_contains", "needs wait = true"},
		{"bad state", "[[case]]\nfunction = \"flaky-background\"\nwait = true\n[case.expect]\nstate = \"running\"\n", 5, "case.expect.state", "not a final state"},
		{"bad regexp", "[[case]]\nfunction = \"hello\"\n[case.expect]\nbody_matches = \"(\"\n", 4, "case.expect.body_matches", "invalid regular expression"},
		{"bad regexp in a list", "[[case]]\nfunction = \"hello\"\n[case.expect]\nlog_matches = [\"ok\", \"[\"]\n", 4, "case.expect.log_matches", "invalid regular expression"},
		{"bad duration", "[[case]]\nfunction = \"hello\"\n[case.expect]\nmax_duration = \"fast\"\n", 4, "case.expect.max_duration", "invalid duration"},
		{"duration as a number", "[[case]]\nfunction = \"hello\"\ntimeout = 5\n", 3, "case.timeout", "expected a duration"},
		{"unknown variable", "[[case]]\nfunction = \"get-item\"\nquery = \"id=${id}\"\n", 3, "case.query", "${id} is not captured"},
		{"variable captured later", "[[case]]\nfunction = \"get-item\"\nheaders = { X-Id = \"${id}\" }\n[[case]]\nfunction = \"create-item\"\ncapture.id = { json = \"id\" }\n", 3, "case.headers.X-Id", "${id} is not captured"},
		{"variable used by the capturing case", "[[case]]\nfunction = \"create-item\"\nbody = \"${id}\"\n[case.capture]\nid = { json = \"id\" }\n", 3, "case.body", "${id} is not captured"},
		{"unterminated variable", "[[case]]\nfunction = \"hello\"\n[case.expect]\nbody = \"${id\"\n", 4, "case.expect.body", "unterminated"},
		{"capture without a source", "[[case]]\nfunction = \"create-item\"\n[case.capture]\nid = { jsn = \"id\" }\n", 4, "case.capture.id.jsn", `did you mean "json"?`},
		{"capture with two sources", "[[case]]\nfunction = \"create-item\"\n[case.capture]\nid = { json = \"id\", header = \"X\" }\n", 4, "case.capture.id", "or"},
		{"capture name", "[[case]]\nfunction = \"create-item\"\n[case.capture]\n\"my-id\" = { json = \"id\" }\n", 4, `case.capture.my-id`, "invalid variable name"},
		{"body and json", "[[case]]\nfunction = \"hello\"\nbody = \"x\"\njson = { a = 1 }\n", 4, "case.json", "not both"},
		{"missing body file", "[[case]]\nfunction = \"hello\"\nbody = \"@nope.json\"\n", 3, "case.body", "cannot read the body file nope.json"},
		{"expect not a table", "[[case]]\nfunction = \"hello\"\nexpect = 200\n", 3, "case.expect", "expected a table"},
		{"json expectation not a table", "[[case]]\nfunction = \"hello\"\n[case.expect]\njson = \"greeting\"\n", 4, "case.expect.json", "table of JSON paths"},
		{"json expectation with a datetime", "[[case]]\nfunction = \"hello\"\n[case.expect]\njson = { at = 2024-01-01T00:00:00Z }\n", 4, "case.expect.json.at", "a datetime has no JSON form"},
		{"header table with a number", "[[case]]\nfunction = \"hello\"\nheaders = { X-N = 1 }\n", 3, "case.headers", "X-N: expected a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("dir/smoke.toml", []byte(tt.src), testSite)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse: %v (%T), want a *FileError", err, err)
			}
			if fe.File != "dir/smoke.toml" || fe.Line != tt.wantLine || fe.Key != tt.wantKey {
				t.Errorf("error at %s:%d key %q, want dir/smoke.toml:%d key %q (%v)", fe.File, fe.Line, fe.Key, tt.wantLine, tt.wantKey, err)
			}
			if !strings.Contains(fe.Msg, tt.wantMsg) {
				t.Errorf("message %q lacks %q", fe.Msg, tt.wantMsg)
			}
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
				t.Errorf("error %q: want lowercase, no trailing period", msg)
			}
		})
	}
}

func TestFileErrorFormat(t *testing.T) {
	tests := []struct {
		err  FileError
		want string
	}{
		{FileError{File: "s.toml", Line: 3, Key: "case.wait", Msg: "bad"}, "s.toml:3: case.wait: bad"},
		{FileError{File: "s.toml", Line: 3, Col: 7, Msg: "bad"}, "s.toml:3:7: bad"},
		{FileError{File: "s.toml", Msg: "no cases"}, "s.toml: no cases"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseCase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "payload.json"), []byte(`{"to":"a@b.c"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `# A smoke file.
[[case]]
function = "hello"
query = { name = "Ada" }

[[case]]
name = "create"
function = "create-item"
json = { name = "Ada", tags = ["x"], n = 1 }
[case.expect]
status = 201
json = { name = "Ada", "tags.0" = "x" }
[case.capture]
id = { json = "id" }
loc = { header = "location" }

[[case]]
name = "read"
function = "get-item"
query = "id=${id}"
headers = { Accept = "application/json" }
body = """
not a header:
[[case]]
"""
[case.expect]
body_contains = ["${id}", "Ada"]

[[case]]
name = "file body"
function = "flaky-background"
body = "@payload.json"
wait = true
method = "put"

[[case]]
path = "/api/items/1"
body = "@@literal"
timeout = "2s"
`
	s, err := Parse(filepath.Join(dir, "smoke.toml"), []byte(src), testSite)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cases) != 5 {
		t.Fatalf("%d cases, want 5", len(s.Cases))
	}
	c := s.Cases
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"default name", c[0].Name, "GET hello"},
		{"default method", c[0].Method, "GET"},
		{"header lines", []int{c[0].Line, c[1].Line, c[2].Line, c[3].Line, c[4].Line}, []int{2, 6, 17, 29, 36}},
		{"method with a body", c[1].Method, "POST"},
		{"checks of create", len(c[1].checks), 3},
		{"captures", []string{c[1].captures[0].name, c[1].captures[1].name, c[1].captures[1].header}, []string{"id", "loc", "Location"}},
		{"uses", c[2].uses, []string{"id"}},
		{"provider", c[2].provider["id"], 1},
		{"deps", c[2].deps, []int{1}},
		{"multi-line body", c[2].body.text.String(), "not a header:\n[[case]]\n"},
		{"checks of read", len(c[2].checks), 3},
		{"file body", string(c[3].body.raw), `{"to":"a@b.c"}`},
		{"method upper-cased", c[3].Method, "PUT"},
		{"wait adds a state check", c[3].checks[len(c[3].checks)-1], check(stateCheck{want: "succeeded", implied: true})},
		{"wait has no status default", len(c[3].checks), 1},
		{"literal @", c[4].body.text.String(), "@literal"},
		{"timeout", c[4].Timeout.String(), "2s"},
		{"path name", c[4].Name, "POST /api/items/1"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: got %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

// TestPlan checks the order cases keep: variables chain the cases that use
// or capture them, serial cases run alone, the rest is free.
func TestPlan(t *testing.T) {
	type spec struct {
		serial   bool
		uses     []string
		captures []string
	}
	tests := []struct {
		name  string
		cases []spec
		want  [][]int
	}{
		{"independent", []spec{{}, {}, {}}, [][]int{{}, {}, {}}},
		{"a chain", []spec{{captures: []string{"id"}}, {uses: []string{"id"}}, {uses: []string{"id"}}, {}}, [][]int{{}, {0}, {1}, {}}},
		{"two chains", []spec{{captures: []string{"a"}}, {captures: []string{"b"}}, {uses: []string{"b"}}, {uses: []string{"a"}}}, [][]int{{}, {}, {1}, {0}}},
		{"a capture again waits for the uses", []spec{{captures: []string{"id"}}, {uses: []string{"id"}}, {captures: []string{"id"}}, {uses: []string{"id"}}}, [][]int{{}, {0}, {1}, {2}}},
		{"serial is a barrier", []spec{{}, {}, {serial: true}, {}, {}}, [][]int{{}, {}, {0, 1}, {2}, {2}}},
		{"two serial cases", []spec{{serial: true}, {serial: true}, {}}, [][]int{{}, {0}, {1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cases []*Case
			for _, s := range tt.cases {
				c := &Case{Serial: s.serial, uses: s.uses}
				for _, v := range s.captures {
					c.captures = append(c.captures, capture{name: v})
				}
				cases = append(cases, c)
			}
			plan(cases)
			for i, c := range cases {
				got := c.deps
				if got == nil {
					got = []int{}
				}
				if !reflect.DeepEqual(got, tt.want[i]) {
					t.Errorf("case %d: deps %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestCaseHeaders(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []int
	}{
		{"plain", "[[case]]\na = 1\n[[case]]\n", []int{1, 3}},
		{"spaces, quotes and a comment", "  [[ case ]]  # first\n[[\"case\"]]\n", []int{1, 2}},
		{"not the case table", "[[cases]]\n[case.expect]\n[[case.x]]\n", nil},
		{"inside a multi-line basic string", "[[case]]\nbody = \"\"\"\n[[case]]\n\"\"\"\n[[case]]\n", []int{1, 5}},
		{"inside a multi-line literal string", "[[case]]\nbody = '''\n[[case]]\n'''\n[[case]]\n", []int{1, 5}},
		{"escaped quotes", "[[case]]\nbody = \"\"\"a\\\"\"\"\"\n[[case]]\n", []int{1, 3}},
		{"quotes in a comment", "[[case]]\n# \"\"\" not a string\n[[case]]\n", []int{1, 3}},
		{"a one-line string with quotes", "[[case]]\nbody = '\"\"\"'\n[[case]]\n", []int{1, 3}},
		{"CRLF", "[[case]]\r\na = 1\r\n[[case]]\r\n", []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := caseHeaders(tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("caseHeaders = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	vars := map[string]string{"id": "42", "name": "Ada"}
	tests := []struct {
		in       string
		want     string
		wantRefs []string
		wantErr  string
	}{
		{in: "plain", want: "plain"},
		{in: "", want: ""},
		{in: "id=${id}", want: "id=42", wantRefs: []string{"id"}},
		{in: "${name}/${id}${id}", want: "Ada/4242", wantRefs: []string{"name", "id", "id"}},
		{in: "cost: $5", want: "cost: $5"},
		{in: "literal $${id}", want: "literal ${id}"},
		{in: "${id", wantErr: "unterminated"},
		{in: "${a-b}", wantErr: "invalid variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tx, err := parseText(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseText(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tx.expand(vars); got != tt.want {
				t.Errorf("expand = %q, want %q", got, tt.want)
			}
			if got := tx.refs(); !reflect.DeepEqual(got, tt.wantRefs) {
				t.Errorf("refs = %v, want %v", got, tt.wantRefs)
			}
			if back, _ := parseText(tx.String()); back.expand(vars) != tt.want {
				t.Errorf("String() = %q does not parse back to the same text", tx.String())
			}
		})
	}
}

// TestReadmeExample checks that the smoke file the README shows is valid.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### `bgfn smoke")
	if !ok {
		t.Fatal("no bgfn smoke section in README.md")
	}
	_, block, ok := strings.Cut(section, "```toml\n")
	if !ok {
		t.Fatal("no toml block in the bgfn smoke section")
	}
	block, _, _ = strings.Cut(block, "```")
	s, err := Parse("README.md", []byte(block), nil)
	if err != nil {
		t.Fatalf("the README's smoke file: %v", err)
	}
	if len(s.Cases) != 3 || s.Cases[1].deps[0] != 0 || !s.Cases[2].Wait {
		t.Errorf("the README's smoke file has %d cases, deps %v", len(s.Cases), s.Cases[1].deps)
	}
}
