package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeTree writes files (slash paths relative to root) and returns root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// callBundle imports the bundle with node, calls its handler with event
// and returns what it printed: the JSON of the result.
func callBundle(t *testing.T, bundle, event string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	script := `
const mod = await import(process.argv[1])
const h = typeof mod.handler === "function" ? mod.handler : mod.default.handler
const res = await h(JSON.parse(process.argv[2]), {})
process.stdout.write(JSON.stringify(res))
`
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--input-type=module", "-e", script, "file://"+bundle, event)
	cmd.Dir = filepath.Dir(bundle)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	return stdout.String()
}

func TestJSBuilderBuildsRunnableBundle(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		entry string
		event string
		want  string // the handler's result as JSON
		// inputs are slash paths relative to the site that must be listed.
		inputs []string
	}{
		{
			name: "v1 commonjs with require",
			files: map[string]string{
				"netlify/functions/hello/hello.js": `const fs = require('fs')
const path = require('node:path')
const { greet } = require('../../../lib/greet')
const data = require('./data.json')
exports.handler = async (event) => ({
  statusCode: 200,
  body: greet(event.name) + ' ' + data.answer + ' ' + typeof fs.readFileSync + ' ' + path.basename('/a/b.txt'),
})
`,
				"netlify/functions/hello/data.json": `{"answer": 42}`,
				"lib/greet.js":                      `exports.greet = (n) => 'hi ' + n`,
			},
			entry:  "netlify/functions/hello/hello.js",
			event:  `{"name":"ann"}`,
			want:   `{"statusCode":200,"body":"hi ann 42 function b.txt"}`,
			inputs: []string{"netlify/functions/hello/hello.js", "netlify/functions/hello/data.json", "lib/greet.js"},
		},
		{
			name: "esm with json import",
			files: map[string]string{
				"netlify/functions/esm.mjs": `import { readFileSync } from 'node:fs'
import conf from '../../config/site.json' with { type: 'json' }
import { twice } from '../../lib/math.mjs'
export const handler = async (event) => ({ statusCode: 200, body: conf.name + ':' + twice(event.n) + ':' + typeof readFileSync })
`,
				"config/site.json": `{"name": "demo"}`,
				"lib/math.mjs":     `export const twice = (n) => n * 2`,
			},
			entry:  "netlify/functions/esm.mjs",
			event:  `{"n":21}`,
			want:   `{"statusCode":200,"body":"demo:42:function"}`,
			inputs: []string{"netlify/functions/esm.mjs", "config/site.json", "lib/math.mjs"},
		},
		{
			name: "typescript",
			files: map[string]string{
				"netlify/functions/ts.ts": `import type { Handler } from './types'
export const handler: Handler = async (event: { n: number }) => ({ statusCode: 200, body: String(event.n as number + 1) })
`,
				"netlify/functions/types.ts": `export type Handler = (e: any) => Promise<any>`,
			},
			entry:  "netlify/functions/ts.ts",
			event:  `{"n":1}`,
			want:   `{"statusCode":200,"body":"2"}`,
			inputs: []string{"netlify/functions/ts.ts"},
		},
		{
			// require() gets a dual package's CommonJS build, import its
			// ES module build, as in Node.
			name: "require and import of a dual package",
			files: map[string]string{
				"netlify/functions/dual.js": `const viaRequire = require('dual')
exports.handler = async () => {
  const viaImport = await import('dual')
  return { statusCode: 200, body: viaRequire.kind + ' ' + viaImport.kind }
}
`,
				"node_modules/dual/package.json": `{"name":"dual","exports":{"import":"./esm.mjs","require":"./cjs.cjs"}}`,
				"node_modules/dual/esm.mjs":      `export const kind = 'esm'`,
				"node_modules/dual/cjs.cjs":      `exports.kind = 'cjs'`,
			},
			entry: "netlify/functions/dual.js",
			event: `{}`,
			want:  `{"statusCode":200,"body":"cjs esm"}`,
		},
		{
			// node-fetch v2's shape: main is CommonJS, module is ESM.
			name: "require of a package with main and module",
			files: map[string]string{
				"netlify/functions/mm.js": `const fetchLike = require('mainmod')
exports.handler = async () => ({ statusCode: 200, body: typeof fetchLike + ' ' + fetchLike() })
`,
				"node_modules/mainmod/package.json":  `{"name":"mainmod","main":"lib/index.js","module":"lib/index.mjs"}`,
				"node_modules/mainmod/lib/index.js":  `module.exports = function fetch() { return 'cjs' }`,
				"node_modules/mainmod/lib/index.mjs": `export default function fetch() { return 'esm' }`,
			},
			entry: "netlify/functions/mm.js",
			event: `{}`,
			want:  `{"statusCode":200,"body":"function cjs"}`,
		},
		{
			// Two bundled modules that both declare FetchError: names stay
			// as written (esbuild renames one binding to avoid the clash).
			name: "class and function names survive bundling",
			files: map[string]string{
				"netlify/functions/names.mjs": `import * as a from './a.mjs'
import * as b from './b.mjs'
function handlerImpl() {}
export const handler = async () => ({ statusCode: 200, body: [new a.FetchError().name, new b.FetchError().name, a.FetchError.name, b.FetchError.name, handlerImpl.name].join(' ') })
`,
				"netlify/functions/a.mjs": `export class FetchError extends Error { constructor() { super('a'); this.name = this.constructor.name } }`,
				"netlify/functions/b.mjs": `export class FetchError extends Error { constructor() { super('b'); this.name = this.constructor.name } }`,
			},
			entry: "netlify/functions/names.mjs",
			event: `{}`,
			want:  `{"statusCode":200,"body":"FetchError FetchError FetchError FetchError handlerImpl"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeTree(t, tt.files)
			b := &JSBuilder{SiteDir: site, OutDir: filepath.Join(site, ".netlify", "bgfn", "functions")}
			defer b.Close()
			art := b.Build("fn", filepath.Join(site, filepath.FromSlash(tt.entry)), JSOptions{})
			if art.Err != nil {
				t.Fatalf("Build: %v", art.Err.Detail())
			}
			// Each build gets a file of its own (see jsContext.write).
			if want := filepath.Join(b.OutDir, "fn", "fn.1.mjs"); art.Entry != want {
				t.Errorf("Entry = %s, want %s", art.Entry, want)
			}
			if mapData, err := os.ReadFile(art.Entry + ".map"); err != nil || !strings.Contains(string(mapData), `"mappings"`) {
				t.Errorf("source map %s.map: %v", art.Entry, err)
			}
			if code, _ := os.ReadFile(art.Entry); !strings.Contains(string(code), "//# sourceMappingURL=fn.1.mjs.map") {
				t.Errorf("bundle does not point at its own map")
			}
			if art.Duration <= 0 {
				t.Errorf("Duration = %v", art.Duration)
			}
			for _, in := range tt.inputs {
				if p := filepath.Join(site, filepath.FromSlash(in)); !slices.Contains(art.Inputs, p) {
					t.Errorf("Inputs %v lack %s", art.Inputs, p)
				}
			}
			for _, in := range art.Inputs {
				if !filepath.IsAbs(in) {
					t.Errorf("input %q is not absolute", in)
				}
			}
			if !slices.IsSorted(art.Inputs) {
				t.Errorf("Inputs are not sorted: %v", art.Inputs)
			}
			if got := callBundle(t, art.Entry, tt.event); got != tt.want {
				t.Errorf("handler returned %s, want %s", got, tt.want)
			}
		})
	}
}

func TestJSBuilderRebuild(t *testing.T) {
	site := writeTree(t, map[string]string{
		"functions/fn.js": `exports.handler = async () => ({ statusCode: 200, body: 'one' })`,
	})
	entry := filepath.Join(site, "functions", "fn.js")
	b := &JSBuilder{SiteDir: site, OutDir: filepath.Join(site, "out")}
	defer b.Close()
	steps := []struct {
		name    string
		src     string // written before the build; "" keeps the file
		forget  bool   // Forget before the build
		close   bool   // Close before the build
		opts    JSOptions
		want    string
		wantErr bool
	}{
		{name: "first build", want: "one"},
		{name: "edit", src: `exports.handler = async () => ({ statusCode: 200, body: 'two' })`, want: "two"},
		{name: "broken", src: `exports.handler = async () => ({ statusCode: 200, body: 'three' )`, wantErr: true},
		{name: "fixed", src: `exports.handler = async () => ({ statusCode: 200, body: 'four' })`, want: "four"},
		{name: "after Forget", src: `exports.handler = async () => ({ statusCode: 200, body: 'five' })`, forget: true, want: "five"},
		{name: "new options", opts: JSOptions{ExternalNodeModules: []string{"left-pad"}}, want: "five"},
		{name: "after Close", src: `exports.handler = async () => ({ statusCode: 200, body: 'six' })`, close: true, want: "six"},
	}
	for _, st := range steps {
		if st.src != "" {
			if err := os.WriteFile(entry, []byte(st.src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if st.forget {
			b.Forget("fn")
			b.Forget("never-built") // harmless
			if _, ok := b.ctxs["fn"]; ok {
				t.Errorf("%s: Forget kept the build context", st.name)
			}
		}
		if st.close {
			b.Close()
			if len(b.ctxs) != 0 {
				t.Errorf("%s: Close kept %d build contexts", st.name, len(b.ctxs))
			}
		}
		art := b.Build("fn", entry, st.opts)
		if st.wantErr {
			if art.Err == nil {
				t.Errorf("%s: Build succeeded, want an error", st.name)
			}
			if !slices.Contains(art.Inputs, entry) {
				t.Errorf("%s: a failed build's Inputs %v lack the entry, so fixing it would not be seen", st.name, art.Inputs)
			}
			continue
		}
		if art.Err != nil {
			t.Fatalf("%s: Build: %v", st.name, art.Err)
		}
		if got, want := callBundle(t, art.Entry, `{}`), `{"statusCode":200,"body":"`+st.want+`"}`; got != want {
			t.Errorf("%s: handler returned %s, want %s", st.name, got, want)
		}
	}
}

func TestJSBuilderSyntaxError(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		entry    string
		wantFile string
		wantLine int
		// wantCol is found from the source: the 1-based column of marker
		// in line wantLine of wantFile.
		marker string
	}{
		{
			name: "in the entry",
			files: map[string]string{
				"netlify/functions/bad.js": "exports.handler = async () => {\n  const x = ;\n}\n",
			},
			entry:    "netlify/functions/bad.js",
			wantFile: "netlify/functions/bad.js",
			wantLine: 2,
			marker:   ";",
		},
		{
			name: "in an imported module",
			files: map[string]string{
				"netlify/functions/ok.mjs": "import { x } from '../../lib/broken.mjs'\nexport const handler = async () => x\n",
				"lib/broken.mjs":           "export const y = 1\nexport const x = {\n  a: 1\n  b: 2\n}\n",
			},
			entry:    "netlify/functions/ok.mjs",
			wantFile: "lib/broken.mjs",
			wantLine: 4,
			marker:   "b",
		},
		{
			name: "missing import",
			files: map[string]string{
				"functions/missing.js": "const m = require('./nope')\nexports.handler = async () => m\n",
			},
			entry:    "functions/missing.js",
			wantFile: "functions/missing.js",
			wantLine: 1,
			marker:   "'./nope'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeTree(t, tt.files)
			b := &JSBuilder{SiteDir: site, OutDir: filepath.Join(site, "out")}
			defer b.Close()
			art := b.Build("bad", filepath.Join(site, filepath.FromSlash(tt.entry)), JSOptions{})
			if art.Err == nil {
				t.Fatal("Build succeeded")
			}
			e := art.Err
			if e.Function != "bad" || len(e.Messages) == 0 {
				t.Fatalf("Err = %+v", e)
			}
			m := e.Messages[0]
			srcLine := strings.Split(tt.files[tt.wantFile], "\n")[tt.wantLine-1]
			wantCol := strings.Index(srcLine, tt.marker) + 1
			if m.File != tt.wantFile || m.Line != tt.wantLine || m.Col != wantCol {
				t.Errorf("position %s:%d:%d, want %s:%d:%d", m.File, m.Line, m.Col, tt.wantFile, tt.wantLine, wantCol)
			}
			if m.Source != srcLine {
				t.Errorf("Source = %q, want %q", m.Source, srcLine)
			}
			if m.Text == "" {
				t.Error("empty message text")
			}
			if want := "build bad: " + m.String(); !strings.HasPrefix(e.Error(), want) {
				t.Errorf("Error() = %q, want it to start with %q", e.Error(), want)
			}
			detail := e.Detail()
			lines := strings.Split(detail, "\n")
			wantLines := []string{
				m.String(),
				"    " + strconv.Itoa(tt.wantLine) + " | " + srcLine,
				"    " + strings.Repeat(" ", len(strconv.Itoa(tt.wantLine))) + " | " + strings.Repeat(" ", wantCol-1) + "^",
			}
			if len(lines) < 3 || !slices.Equal(lines[:3], wantLines) {
				t.Errorf("Detail() =\n%s\nwant it to start with\n%s", detail, strings.Join(wantLines, "\n"))
			}
		})
	}
}

func TestErrorFormatting(t *testing.T) {
	tests := []struct {
		name       string
		msgs       []Message
		wantError  string
		wantDetail string
	}{
		{
			name:       "position and caret",
			msgs:       []Message{{File: "f/a.js", Line: 12, Col: 5, Text: "Unexpected \"}\"", Source: "  x }"}},
			wantError:  `build fn: f/a.js:12:5: Unexpected "}"`,
			wantDetail: "f/a.js:12:5: Unexpected \"}\"\n    12 |   x }\n       |     ^",
		},
		{
			name:       "no line",
			msgs:       []Message{{File: "f", Text: "go not found"}},
			wantError:  "build fn: f: go not found",
			wantDetail: "f: go not found",
		},
		{
			name:       "no file",
			msgs:       []Message{{Text: "esbuild failed"}, {File: "b.go", Line: 1, Col: 1, Text: "x", Source: "package"}},
			wantError:  "build fn: esbuild failed; b.go:1:1: x",
			wantDetail: "esbuild failed\nb.go:1:1: x\n    1 | package\n      | ^",
		},
		{
			// Col 0 means unknown (Detail draws no caret): print file:line
			// as the Go toolchain does, not a column 0 editors reject.
			name:       "no column",
			msgs:       []Message{{File: "m.go", Line: 3, Text: "x", Source: "func"}},
			wantError:  "build fn: m.go:3: x",
			wantDetail: "m.go:3: x\n    3 | func",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Error{Function: "fn", Messages: tt.msgs}
			if got := e.Error(); got != tt.wantError {
				t.Errorf("Error() = %q, want %q", got, tt.wantError)
			}
			if got := e.Detail(); got != tt.wantDetail {
				t.Errorf("Detail() =\n%s\nwant\n%s", got, tt.wantDetail)
			}
		})
	}
}

func TestEnsureDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", ".netlify", "bgfn")
	for range 2 {
		if err := EnsureDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\n*\n") {
		t.Errorf(".gitignore = %q, want it to ignore everything", b)
	}
}

// TestJSBuilderVersionsBundles checks that every build lands under a new
// name (a starting worker never sees a half-written file, and an older
// pool keeps its own build) and that old builds are cleaned up.
func TestJSBuilderVersionsBundles(t *testing.T) {
	site := writeTree(t, map[string]string{"functions/v.js": "exports.handler = async () => ({statusCode: 200, body: '1'})\n"})
	b := &JSBuilder{SiteDir: site, OutDir: filepath.Join(site, ".netlify", "bgfn", "functions")}
	defer b.Close()
	var entries []string
	for i := 0; i < 5; i++ {
		os.WriteFile(filepath.Join(site, "functions", "v.js"), []byte(fmt.Sprintf("exports.handler = async () => ({statusCode: 200, body: '%d'})\n", i)), 0o644)
		art := b.Build("v", filepath.Join(site, "functions", "v.js"), JSOptions{})
		if art.Err != nil {
			t.Fatal(art.Err.Detail())
		}
		entries = append(entries, art.Entry)
	}
	if len(slices.Compact(slices.Clone(entries))) != 5 {
		t.Fatalf("entries not distinct: %v", entries)
	}
	for i, e := range entries {
		_, err := os.Stat(e)
		if kept := i >= 2; kept != (err == nil) {
			t.Errorf("build %d (%s): exists=%v, want %v", i+1, e, err == nil, kept)
		}
	}
}

func TestJSBuilderLazyRequire(t *testing.T) {
	site := writeTree(t, map[string]string{
		"netlify/functions/lazy.js": `exports.handler = async (event) => {
  if (event.load) {
    const AWS = require('aws-sdk/clients/s3')
    return { statusCode: 200, body: typeof AWS }
  }
  if (event.dyn) {
    await import('@scope/missing')
  }
  return { statusCode: 200, body: 'fine' }
}
`,
		"netlify/functions/static.mjs": `import missing from 'not-installed'
export const handler = async () => ({ statusCode: 200, body: String(missing) })
`,
	})
	b := &JSBuilder{SiteDir: site, OutDir: filepath.Join(site, ".netlify", "bgfn", "functions")}
	defer b.Close()

	art := b.Build("lazy", filepath.Join(site, "netlify/functions/lazy.js"), JSOptions{})
	if art.Err != nil {
		t.Fatalf("a lazy require of a missing package failed the build: %v", art.Err.Detail())
	}
	if len(art.Warnings) != 2 {
		t.Fatalf("Warnings = %+v, want one for aws-sdk and one for @scope/missing", art.Warnings)
	}
	w := art.Warnings[0]
	if w.File != "netlify/functions/lazy.js" || w.Line != 3 || !strings.Contains(w.Text, `require("aws-sdk/clients/s3")`) ||
		!strings.Contains(w.Text, "npm install aws-sdk") || !strings.Contains(w.Text, `"aws-sdk" to external_node_modules`) {
		t.Errorf("first warning = %+v (%s)", w, w.String())
	}
	if w := art.Warnings[1]; w.Line != 7 || !strings.Contains(w.Text, `npm install @scope/missing`) {
		t.Errorf("second warning = %+v", w)
	}
	if got := callBundle(t, art.Entry, `{}`); got != `{"statusCode":200,"body":"fine"}` {
		t.Errorf("handler returned %s", got)
	}

	// Listed in external_node_modules: no warning.
	quiet := b.Build("lazy", filepath.Join(site, "netlify/functions/lazy.js"), JSOptions{ExternalNodeModules: []string{"aws-sdk", "@scope/missing"}})
	if quiet.Err != nil || len(quiet.Warnings) != 0 {
		t.Errorf("with external_node_modules: err %v, warnings %+v", quiet.Err, quiet.Warnings)
	}

	// A static import of a missing package stays an error.
	st := b.Build("static", filepath.Join(site, "netlify/functions/static.mjs"), JSOptions{})
	if st.Err == nil || !strings.Contains(st.Err.Detail(), `Could not resolve "not-installed"`) {
		t.Errorf("static import of a missing package: err = %v", st.Err)
	}
}

func TestPackageName(t *testing.T) {
	for spec, want := range map[string]string{
		"aws-sdk":              "aws-sdk",
		"aws-sdk/clients/s3":   "aws-sdk",
		"@aws-sdk/client-s3":   "@aws-sdk/client-s3",
		"@scope/pkg/deep/a.js": "@scope/pkg",
	} {
		if got := packageName(spec); got != want {
			t.Errorf("packageName(%q) = %q, want %q", spec, got, want)
		}
	}
}

// TestJSBuilderReleaseIdle: the context of a function with large inputs,
// not built for a while, is released; a small one is kept; the next
// build of the released one starts afresh and goes on numbering bundles.
func TestJSBuilderReleaseIdle(t *testing.T) {
	big := "exports.data = " + strconv.Quote(strings.Repeat("x", 2<<20)) + "\n"
	site := writeTree(t, map[string]string{
		"functions/big.js":   "const { data } = require('./data.js')\nexports.handler = async () => ({statusCode: 200, body: String(data.length)})\n",
		"functions/data.js":  big,
		"functions/small.js": "exports.handler = async () => ({statusCode: 200, body: 'small'})\n",
	})
	b := &JSBuilder{SiteDir: site, OutDir: filepath.Join(site, ".netlify", "bgfn", "functions")}
	defer b.Close()
	build := func(name string) Artifact {
		t.Helper()
		art := b.Build(name, filepath.Join(site, "functions", name+".js"), JSOptions{})
		if art.Err != nil {
			t.Fatal(art.Err.Detail())
		}
		return art
	}
	first := build("big")
	build("small")
	if n := b.ReleaseIdle(time.Hour, 1<<20); n != 0 {
		t.Fatalf("released %d contexts used just now", n)
	}
	if n := b.ReleaseIdle(0, 1<<20); n != 1 || b.Contexts() != 1 {
		t.Fatalf("released %d, %d left: want the big one released and the small one kept", n, b.Contexts())
	}
	second := build("big")
	if filepath.Base(first.Entry) != "big.1.mjs" || filepath.Base(second.Entry) != "big.2.mjs" {
		t.Fatalf("bundles %s then %s: want big.1.mjs then big.2.mjs", first.Entry, second.Entry)
	}
	if got := callBundle(t, second.Entry, `{}`); !strings.Contains(got, `"body":"2097152"`) {
		t.Fatalf("rebuilt bundle answered %s", got)
	}
}
