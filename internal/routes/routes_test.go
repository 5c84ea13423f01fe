package routes

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

func TestCompileMatch(t *testing.T) {
	type probe struct {
		path   string
		ok     bool
		params map[string]string
	}
	tests := []struct {
		name    string
		pattern string
		literal bool
		probes  []probe
	}{
		{
			name: "literal", pattern: "/hello", literal: true,
			probes: []probe{
				{path: "/hello", ok: true},
				{path: "/hello/", ok: true},
				{path: "/HeLLo", ok: true},
				{path: "/hello//"},
				{path: "/hellox"},
				{path: "/hello/x"},
				{path: "/"},
			},
		},
		{
			name: "root literal", pattern: "/", literal: true,
			probes: []probe{{path: "/", ok: true}, {path: "/x"}},
		},
		{
			name: "literal with upper case never matches", pattern: "/About", literal: true,
			probes: []probe{{path: "/About"}, {path: "/about"}, {path: "/ABOUT"}},
		},
		{
			name: "literal with a trailing slash never matches", pattern: "/foo/", literal: true,
			probes: []probe{{path: "/foo/"}, {path: "/foo"}},
		},
		{
			name: "unbalanced brace and trailing backslash are literal", pattern: `/a}\`, literal: true,
			probes: []probe{{path: `/a%7D\`, ok: true}},
		},
		{
			name: "colon inside a segment is literal", pattern: "/a:b", literal: true,
			probes: []probe{{path: "/a:b", ok: true}, {path: "/a"}},
		},
		{
			name: "modifier characters alone are literal", pattern: "/a+b?", literal: true,
			// A "?" in a request path is always escaped.
			probes: []probe{{path: "/a+b%3F", ok: true}, {path: "/aab"}},
		},
		{
			name: "named parameter", pattern: "/api/items/:id",
			probes: []probe{
				{path: "/api/items/42", ok: true, params: map[string]string{"id": "42"}},
				{path: "/api/items/42/", ok: true, params: map[string]string{"id": "42"}},
				{path: "/api/items/42//", ok: true, params: map[string]string{"id": "42"}},
				{path: "/api/items/42///"},
				{path: "/api/items"},
				{path: "/api/items/"},
				{path: "/api/items/42/x"},
				{path: "/API/Items/AbC", ok: true, params: map[string]string{"id": "AbC"}},
			},
		},
		{
			name: "upper case in a pattern never matches", pattern: "/API/:id",
			probes: []probe{{path: "/API/1"}, {path: "/api/1"}},
		},
		{
			name: "wildcard", pattern: "/blog/*",
			probes: []probe{
				{path: "/blog/a/b", ok: true, params: map[string]string{"0": "a/b"}},
				{path: "/blog/a/b/", ok: true, params: map[string]string{"0": "a/b"}},
				{path: "/blog/x", ok: true, params: map[string]string{"0": "x"}},
				{path: "/blog/"},
				{path: "/blog"},
				{path: "/blogs/x"},
			},
		},
		{
			name: "two wildcards are numbered", pattern: "/a/*/b/*",
			probes: []probe{{path: "/a/1/2/b/3", ok: true, params: map[string]string{"0": "1/2", "1": "3"}}},
		},
		{
			name: "wildcard with a suffix", pattern: "/img/*.png",
			probes: []probe{{path: "/img/a/b.png", ok: true, params: map[string]string{"0": "a/b"}}, {path: "/img/a.jpg"}},
		},
		{
			name: "optional parameter", pattern: "/users/:id?",
			probes: []probe{
				{path: "/users", ok: true, params: map[string]string{}},
				{path: "/users/", ok: true, params: map[string]string{}},
				{path: "/users/7", ok: true, params: map[string]string{"id": "7"}},
				{path: "/users/7/8"},
			},
		},
		{
			name: "two parameters in a segment", pattern: "/files/:name.:ext",
			probes: []probe{
				{path: "/files/report.pdf", ok: true, params: map[string]string{"name": "report", "ext": "pdf"}},
				{path: "/files/a.b.c", ok: true, params: map[string]string{"name": "a", "ext": "b.c"}},
				{path: "/files/report"},
			},
		},
		{
			name: "optional group", pattern: "/site{/lang/:lang}?/docs",
			probes: []probe{
				{path: "/site/docs", ok: true, params: map[string]string{}},
				{path: "/site/lang/fr/docs", ok: true, params: map[string]string{"lang": "fr"}},
				{path: "/site/lang/docs"},
			},
		},
		{
			name: "optional fixed group", pattern: "/book{s}?",
			probes: []probe{{path: "/book", ok: true}, {path: "/books", ok: true}, {path: "/bookss"}},
		},
		{
			name: "custom regexp", pattern: `/post/:id(\d+)`,
			probes: []probe{{path: "/post/12", ok: true, params: map[string]string{"id": "12"}}, {path: "/post/ab"}},
		},
		{
			name: "unnamed regexp group", pattern: `/v(\d+)/x`,
			probes: []probe{{path: "/v2/x", ok: true, params: map[string]string{"0": "2"}}, {path: "/vx/x"}},
		},
		{
			name: "one or more segments", pattern: "/files/:path+",
			probes: []probe{
				{path: "/files/a/b/c", ok: true, params: map[string]string{"path": "a/b/c"}},
				{path: "/files"},
			},
		},
		{
			name: "zero or more segments", pattern: "/files/:path*",
			probes: []probe{
				{path: "/files/a/b", ok: true, params: map[string]string{"path": "a/b"}},
				{path: "/files", ok: true, params: map[string]string{}},
			},
		},
		{
			name: "escaped special character", pattern: `/a\*/:x`,
			probes: []probe{{path: "/a*/1", ok: true, params: map[string]string{"x": "1"}}, {path: "/ab/1"}},
		},
		{
			name: "bracket makes a pattern of plain text", pattern: "/a[b]",
			probes: []probe{{path: "/a[b]", ok: true}, {path: "/a[b]/", ok: true}, {path: "/ab"}},
		},
		{
			name: "params are percent-decoded", pattern: "/tags/:tag",
			probes: []probe{
				{path: "/tags/hello%20world", ok: true, params: map[string]string{"tag": "hello world"}},
				{path: "/tags/a%2Fb", ok: true, params: map[string]string{"tag": "a/b"}},
				{path: "/tags/100%", ok: true, params: map[string]string{"tag": "100%"}},
			},
		},
		{
			name: "non-ASCII text matches the escaped path", pattern: "/café/:x",
			probes: []probe{
				{path: "/caf%C3%A9/1", ok: true, params: map[string]string{"x": "1"}},
				{path: "/caf%c3%a9/1", ok: true, params: map[string]string{"x": "1"}},
			},
		},
		{
			name: "root wildcard", pattern: "/*",
			probes: []probe{{path: "/", ok: true, params: map[string]string{"0": ""}}, {path: "/a/b", ok: true, params: map[string]string{"0": "a/b"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile(tt.pattern)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.pattern, err)
			}
			if r.Literal() != tt.literal {
				t.Errorf("Literal() = %v, want %v", r.Literal(), tt.literal)
			}
			if r.String() != tt.pattern {
				t.Errorf("String() = %q, want %q", r.String(), tt.pattern)
			}
			for _, p := range tt.probes {
				params, ok := r.Match(p.path)
				if ok != p.ok {
					t.Errorf("Match(%q) ok = %v, want %v (regexp %v)", p.path, ok, p.ok, r.re)
					continue
				}
				if ok && p.params != nil && !maps.Equal(params, p.params) {
					t.Errorf("Match(%q) params = %v, want %v", p.path, params, p.params)
				}
			}
		})
	}
}

// TestRegexp pins the generated expressions to those urlpattern-polyfill
// gives zip-it-and-ship-it, in Go syntax, with its ^…\/?$ anchoring.
func TestRegexp(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"/api/items/:id", `^/api/items(?:/([^/]+?))/?$`},
		{"/blog/*", `^/blog(?:/(.*))/?$`},
		{"/users/:id?", `^/users(?:/([^/]+?))?/?$`},
		{`/post/:id(\d+)`, `^/post(?:/(\d+))/?$`},
		{"/files/:path+", `^/files(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))/?$`},
		{"/files/:path*", `^/files(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?/?$`},
		{"/book{s}?", `^/book(?:s)?/?$`},
		{"/a.b/*.png", `^/a\.b(?:/(.*))\.png/?$`},
		{"/é/:x", `^/%c3%a9(?:/([^/]+?))/?$`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			r, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.re.String(); got != tt.want {
				t.Errorf("regexp = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
	}{
		{"", "must start with '/'"},
		{"api/:id", "must start with '/'"},
		{"*", "must start with '/'"},
		{"/:a/:a", `duplicate parameter name "a"`},
		{"/x(", "unterminated regexp"},
		{"/x((?:a)", "unterminated regexp"},
		{"/x(?:a)", "starts with '?'"},
		{"/x()", "empty regexp"},
		{"/x((a))", "capturing group"},
		{"/x(a(?<n>b))", "capturing group"},
		{"/x(a(?P<n>b))", "capturing group"},
		{"/:id(?a)", "starts with '?'"},
		{"/x(é)", "non-ASCII"},
		{"/x(a\\", "bad escape"},
		{"/x(a(?=b))", "not supported"},
		{`/x(a\1)`, "not supported"},
		{"/x([a)", "not supported"},
		{"/:", "missing parameter name"},
		{"/:-a", "missing parameter name"},
		{"/{a", "expected '}'"},
		{"/{a{b}}", "expected '}'"},
		{"/:x/a}", "expected the end of the pattern"},
		{"/:x??", "expected the end of the pattern"},
		{"/:x\\", "trailing backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			r, err := Compile(tt.pattern)
			if err == nil {
				t.Fatalf("Compile(%q) = %v, want an error", tt.pattern, r.re)
			}
			prefix := fmt.Sprintf("invalid route pattern %q: ", tt.pattern)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q and %q", err, prefix, tt.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	type lookup struct {
		method, path string
		fn, pattern  string // fn "" means no match
		params       map[string]string
	}
	tests := []struct {
		name    string
		entries []Entry
		errs    []string
		lookups []lookup
	}{
		{
			name: "literal and pattern",
			entries: []Entry{
				{Function: "hello", Paths: []string{"/hello"}},
				{Function: "items", Paths: []string{"/api/items/:id"}},
			},
			lookups: []lookup{
				{"GET", "/hello", "hello", "/hello", nil},
				{"GET", "/HELLO/", "hello", "/hello", nil},
				{"POST", "/api/items/42", "items", "/api/items/:id", map[string]string{"id": "42"}},
				{"GET", "/nothing", "", "", nil},
				{"GET", "/.netlify/functions/hello", "", "", nil},
			},
		},
		{
			name: "method filter",
			entries: []Entry{
				{Function: "read", Paths: []string{"/api/thing"}, Methods: []string{"GET", "head"}},
				{Function: "write", Paths: []string{"/api/thing"}, Methods: []string{"POST", "PUT"}},
			},
			lookups: []lookup{
				{"GET", "/api/thing", "read", "/api/thing", nil},
				{"HEAD", "/api/thing", "read", "/api/thing", nil},
				{"PUT", "/api/thing", "write", "/api/thing", nil},
				{"DELETE", "/api/thing", "", "", nil},
				{"get", "/api/thing", "", "", nil},
			},
		},
		{
			name: "excluded path falls through to the next function",
			entries: []Entry{
				{Function: "api", Paths: []string{"/api/*"}, Excluded: []string{"/api/health", "/api/internal/*"}},
				{Function: "health", Paths: []string{"/api/health"}},
			},
			lookups: []lookup{
				{"GET", "/api/users", "api", "/api/*", map[string]string{"0": "users"}},
				{"GET", "/api/health", "health", "/api/health", nil},
				{"GET", "/api/health/", "health", "/api/health", nil},
				{"GET", "/api/internal/x", "", "", nil},
			},
		},
		{
			name: "array of paths",
			entries: []Entry{
				{Function: "multi", Paths: []string{"/one", "/two/:id", "/one"}},
			},
			lookups: []lookup{
				{"GET", "/one", "multi", "/one", nil},
				{"GET", "/two/2", "multi", "/two/:id", map[string]string{"id": "2"}},
				{"GET", "/three", "", "", nil},
			},
		},
		{
			name: "first match wins",
			entries: []Entry{
				{Function: "b-generic", Paths: []string{"/items/:id"}},
				{Function: "a-special", Paths: []string{"/items/special"}},
			},
			lookups: []lookup{
				{"GET", "/items/special", "b-generic", "/items/:id", map[string]string{"id": "special"}},
			},
		},
		{
			name: "invalid patterns are reported and skipped",
			entries: []Entry{
				{Function: "bad", Paths: []string{"/x(", "/ok", "/x("}, Excluded: []string{"nope"}},
				{Function: "worse", Paths: []string{"relative"}},
				{Function: "after", Paths: []string{"/x(", "/after"}},
			},
			errs: []string{
				`function bad: invalid route pattern "/x(": unterminated regexp at offset 2`,
				`function bad: invalid route pattern "nope": must start with '/'`,
				`function worse: invalid route pattern "relative": must start with '/'`,
				`function after: invalid route pattern "/x(": unterminated regexp at offset 2`,
			},
			lookups: []lookup{
				{"GET", "/ok", "bad", "/ok", nil},
				{"GET", "/after", "after", "/after", nil},
				{"GET", "/relative", "", "", nil},
			},
		},
		{
			name:    "no paths, no routes",
			entries: []Entry{{Function: "plain", Methods: []string{"GET"}}},
			lookups: []lookup{{"GET", "/", "", "", nil}, {"GET", "/plain", "", "", nil}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, errs := NewTable(tt.entries)
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.errs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.errs, "\n"))
			}
			for _, l := range tt.lookups {
				fn, pattern, params, ok := table.Lookup(l.method, l.path)
				if ok != (l.fn != "") || fn != l.fn || pattern != l.pattern {
					t.Errorf("Lookup(%s %s) = %q, %q, %v; want %q, %q", l.method, l.path, fn, pattern, ok, l.fn, l.pattern)
				}
				if !maps.Equal(params, l.params) {
					t.Errorf("Lookup(%s %s) params = %v, want %v", l.method, l.path, params, l.params)
				}
			}
		})
	}
}

func TestLookupStatic(t *testing.T) {
	table, errs := NewTable([]Entry{
		{Function: "page", Paths: []string{"/page", "/other"}, PreferStatic: true},
		{Function: "fallback", Paths: []string{"/page"}},
	})
	if errs != nil {
		t.Fatal(errs)
	}
	tests := []struct {
		name   string
		path   string
		static func() bool
		want   string
		calls  int
	}{
		{"no static file", "/page", func() bool { return false }, "page", 1},
		{"static file wins, next function", "/page", func() bool { return true }, "fallback", 1},
		{"static file wins, no other function", "/other", func() bool { return true }, "", 1},
		{"nil means no static files", "/page", nil, "page", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var static func() bool
			if tt.static != nil {
				static = func() bool { calls++; return tt.static() }
			}
			fn, _, _, _ := table.LookupStatic("GET", tt.path, static)
			if fn != tt.want {
				t.Errorf("function = %q, want %q", fn, tt.want)
			}
			if calls != tt.calls {
				t.Errorf("hasStatic called %d times, want %d", calls, tt.calls)
			}
		})
	}

	t.Run("not asked without a preferStatic match", func(t *testing.T) {
		table, _ := NewTable([]Entry{{Function: "f", Paths: []string{"/f"}}})
		table.LookupStatic("GET", "/f", func() bool { t.Error("hasStatic called"); return true })
	})
}

func TestNilTable(t *testing.T) {
	var table *Table
	if _, _, _, ok := table.Lookup("GET", "/"); ok {
		t.Error("nil table matched")
	}
}

// literalTable has many literal routes, as a site with a few dozen functions
// would.
func literalTable(tb testing.TB) *Table {
	var entries []Entry
	for _, name := range strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu") {
		entries = append(entries, Entry{Function: name, Paths: []string{"/api/" + name, "/" + name}, Methods: []string{"GET"}})
	}
	table, errs := NewTable(entries)
	if errs != nil {
		tb.Fatal(errs)
	}
	return table
}

func TestLookupMissDoesNotAllocate(t *testing.T) {
	tests := []struct {
		name  string
		table *Table
	}{
		{"literals", literalTable(t)},
	}
	patterns, _ := NewTable([]Entry{{Function: "p", Paths: []string{"/api/items/:id", "/blog/*"}}})
	tests = append(tests, struct {
		name  string
		table *Table
	}{"patterns", patterns})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/missing", "/nothing/here/", "/blog"} {
				allocs := testing.AllocsPerRun(100, func() {
					tt.table.Lookup("GET", path)
				})
				if allocs != 0 {
					t.Errorf("Lookup(%q) allocates %v times per miss", path, allocs)
				}
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	literals := literalTable(b)
	patterns, _ := NewTable([]Entry{
		{Function: "items", Paths: []string{"/api/items/:id"}},
		{Function: "blog", Paths: []string{"/blog/*"}},
	})
	benchmarks := []struct {
		name   string
		table  *Table
		method string
		path   string
	}{
		{"literal miss", literals, "GET", "/api/missing"},
		{"literal hit last", literals, "GET", "/mu"},
		{"pattern miss", patterns, "GET", "/api/other/1"},
		{"pattern hit", patterns, "GET", "/blog/2025/post"},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bm.table.Lookup(bm.method, bm.path)
			}
		})
	}
}

// FuzzCompile checks that no pattern makes Compile or Match panic.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"/api/items/:id", "/blog/*", "/a{/:b}?/c", `/x/:id(\d+)`, "/:a+", "/(", "/{", `/\`} {
		f.Add(s, "/api/items/1")
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		r, err := Compile(pattern)
		if err != nil {
			return
		}
		r.Match(path)
	})
}
