package dev

import (
	"slices"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/build"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/site"
)

const base = "/site"

// planFn is a discovered function of the test site.
func planFn(name string, rt discover.Runtime, entry string) discover.Function {
	return discover.Function{Name: name, Runtime: rt, Entry: entry, Kind: discover.KindSync}
}

var (
	hello    = planFn("hello", discover.RuntimeJS, "hello.js")
	greet    = planFn("greet", discover.RuntimeTS, "greet.ts")
	goEcho   = planFn("echo-go", discover.RuntimeGo, "echo-go/main.go")
	helloMJS = planFn("hello", discover.RuntimeJS, "hello.mjs")
)

// planConfig is a configuration with env and settings for "hello".
func planConfig(env map[string]string, hello config.FunctionSettings) *config.Config {
	return &config.Config{
		SiteDir: base, BaseDir: base, FunctionsDir: base + "/functions", Env: env,
		Functions: config.FunctionsConfig{Patterns: []config.PatternSettings{{Pattern: "hello", FunctionSettings: hello}}},
	}
}

// planArts are the builds the old functions run: each reads its entry,
// hello and greet share lib/msg.js, echo-go reads its folder's files.
func planArts(broken ...string) map[string]build.Artifact {
	arts := map[string]build.Artifact{
		"hello":   {Entry: "b/hello.1.mjs", Inputs: []string{base + "/functions/hello.js", base + "/lib/msg.js", base + "/functions/data.json"}},
		"greet":   {Entry: "b/greet.1.mjs", Inputs: []string{base + "/functions/greet.ts", base + "/lib/msg.js"}},
		"echo-go": {Entry: "b/bootstrap-x", Inputs: []string{base + "/functions/echo-go/main.go", base + "/functions/echo-go/go.mod", base + "/lib/golib/lib.go"}},
	}
	for _, name := range broken {
		a := arts[name]
		a.Entry, a.Err = "", &build.Error{Function: name, Messages: []build.Message{{Text: "Expected \";\""}}}
		arts[name] = a
	}
	return arts
}

func changedSet(paths ...string) map[string]bool {
	m := map[string]bool{}
	for _, p := range paths {
		m[base+"/"+p] = true
	}
	return m
}

// render writes steps as "kind name (why)" lines.
func render(steps []step) string {
	var lines []string
	for _, st := range steps {
		l := st.kind.String() + " " + st.fn.Name
		if st.why != "" {
			l += " (" + st.why + ")"
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func TestPlan(t *testing.T) {
	env := map[string]string{"API_KEY": "a"}
	cfg := planConfig(env, config.FunctionSettings{})
	three := []discover.Function{goEcho, greet, hello}
	yes := true
	withKind := func(fn discover.Function, k discover.Kind) discover.Function { fn.Kind = k; return fn }
	withPath := func(fn discover.Function, p ...string) discover.Function { fn.Paths = p; return fn }

	tests := []struct {
		name     string
		oldFns   []discover.Function
		newFns   []discover.Function
		oldCfg   *config.Config
		newCfg   *config.Config // nil: the old one (not reloaded, or failed to load)
		arts     map[string]build.Artifact
		changed  map[string]bool
		empty    []string
		want     string
		wantNone bool
	}{
		{name: "edit one function", changed: changedSet("functions/hello.js"),
			want: "rebuild hello (changed: functions/hello.js)"},
		{name: "edit a shared import rebuilds every function that reads it", changed: changedSet("lib/msg.js"),
			want: "rebuild greet (changed: lib/msg.js)\nrebuild hello (changed: lib/msg.js)"},
		{name: "edit an imported JSON file", changed: changedSet("functions/data.json"),
			want: "rebuild hello (changed: functions/data.json)"},
		{name: "edit a file nothing reads", changed: changedSet("functions/README.md"), wantNone: true},
		{name: "add a function", newFns: []discover.Function{goEcho, greet, hello, planFn("new", discover.RuntimeJS, "new.js")},
			changed: changedSet("functions/new.js"), want: "add new"},
		{name: "remove a function", newFns: []discover.Function{goEcho, hello}, changed: changedSet("functions/greet.ts"),
			want: "remove greet"},
		{name: "rename a function", newFns: []discover.Function{goEcho, planFn("greeting", discover.RuntimeTS, "greeting.ts"), hello},
			changed: changedSet("functions/greet.ts", "functions/greeting.ts"), want: "add greeting\nremove greet"},
		{name: "an entry that moves to another file (hello.js to hello.mjs)", newFns: []discover.Function{goEcho, greet, helloMJS},
			changed: changedSet("functions/hello.js", "functions/hello.mjs"), want: "rebuild hello (netlify.toml changed)"},
		{name: "netlify.toml changes one function's settings",
			newCfg:  planConfig(env, config.FunctionSettings{ExternalNodeModules: []string{"sharp"}}),
			changed: changedSet("netlify.toml"), want: "rebuild hello (netlify.toml changed)"},
		{name: "netlify.toml makes a function background",
			newCfg:  planConfig(env, config.FunctionSettings{Background: &yes}),
			newFns:  []discover.Function{goEcho, greet, withKind(hello, discover.KindBackground)},
			changed: changedSet("netlify.toml"), want: "rebuild hello (netlify.toml changed)"},
		{name: "netlify.toml edit that changes nothing", newCfg: planConfig(env, config.FunctionSettings{}),
			changed: changedSet("netlify.toml"), wantNone: true},
		{name: ".env edit restarts every function", newCfg: planConfig(map[string]string{"API_KEY": "b"}, config.FunctionSettings{}),
			changed: changedSet(".env"),
			want:    "restart echo-go (environment changed)\nrestart greet (environment changed)\nrestart hello (environment changed)"},
		{name: ".env edit plus a source edit rebuilds that one and restarts the rest",
			newCfg:  planConfig(map[string]string{"API_KEY": "b"}, config.FunctionSettings{}),
			changed: changedSet(".env", "functions/greet.ts"),
			want:    "restart echo-go (environment changed)\nrebuild greet (changed: functions/greet.ts)\nrestart hello (environment changed)"},
		{name: "a broken function is retried on any change in the functions folder", arts: planArts("greet"),
			changed: changedSet("functions/other.txt"), want: "rebuild greet (changed: retry after build error)"},
		{name: "the fix of a build error", arts: planArts("greet"), changed: changedSet("functions/greet.ts"),
			want: "rebuild greet (changed: functions/greet.ts)"},
		{name: "a broken function is not retried for a change outside the folder", arts: planArts("greet"),
			changed: changedSet("lib/other.js"), wantNone: true},
		{name: "Go edit", changed: changedSet("functions/echo-go/main.go"), want: "rebuild echo-go (changed: functions/echo-go/main.go)"},
		{name: "Go edit of a local package", changed: changedSet("lib/golib/lib.go"), want: "rebuild echo-go (changed: lib/golib/lib.go)"},
		{name: "an emptied entry is a save in progress", changed: changedSet("functions/hello.js"), empty: []string{"hello"}, wantNone: true},
		{name: "in-source config adds a route", newFns: []discover.Function{goEcho, greet, withPath(hello, "/api/hello")},
			changed: changedSet("functions/hello.js"), want: "rebuild hello (netlify.toml changed)"},
		{name: "the functions folder moves: everything is rebuilt",
			newCfg: func() *config.Config {
				c := planConfig(env, config.FunctionSettings{})
				c.FunctionsDir = base + "/netlify/functions"
				return c
			}(),
			changed: changedSet("netlify.toml"),
			want:    "rebuild echo-go (netlify.toml changed)\nrebuild greet (netlify.toml changed)\nrebuild hello (netlify.toml changed)"},
		{name: "several removes come last, in name order", newFns: []discover.Function{planFn("zeta", discover.RuntimeJS, "zeta.js")},
			changed: changedSet("functions/zeta.js"), want: "add zeta\nremove echo-go\nremove greet\nremove hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldFns, newFns := tt.oldFns, tt.newFns
			if oldFns == nil {
				oldFns = three
			}
			if newFns == nil {
				newFns = oldFns
			}
			oldCfg := tt.oldCfg
			if oldCfg == nil {
				oldCfg = cfg
			}
			newCfg := tt.newCfg
			if newCfg == nil {
				newCfg = oldCfg
			}
			arts := tt.arts
			if arts == nil {
				arts = planArts()
			}
			empty := map[string]bool{}
			for _, n := range tt.empty {
				empty[n] = true
			}
			in := planInput{
				old:     &site.Site{Config: oldCfg, Functions: oldFns},
				cur:     &site.Site{Config: newCfg, Functions: newFns},
				arts:    arts,
				changed: tt.changed,
				empty:   empty,
			}
			got := render(plan(in))
			if tt.wantNone {
				if got != "" {
					t.Errorf("plan =\n%s\nwant no steps", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("plan =\n%s\nwant\n%s", got, tt.want)
			}
			// Pure: the same input gives the same plan.
			if again := render(plan(in)); again != got {
				t.Errorf("second plan differs:\n%s", again)
			}
		})
	}
}

func TestMerged(t *testing.T) {
	tests := []struct {
		a, b, want []string
	}{
		{nil, []string{"/a"}, []string{"/a"}},
		{[]string{"/a", "/c"}, []string{"/b", "/c"}, []string{"/a", "/b", "/c"}},
		{[]string{"/b"}, nil, []string{"/b"}},
	}
	for _, tt := range tests {
		if got := merged(tt.a, tt.b); !slices.Equal(got, tt.want) {
			t.Errorf("merged(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
