package discover

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	v1 = "exports.handler = async () => ({ statusCode: 200 })\n"
	v2 = "export default async () => new Response('ok')\n"
	g  = "package main\n\nfunc main() {}\n"
)

// files builds a MapFS from path, content pairs.
func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

func TestDiscoverLayout(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []Function
		warn []string
	}{
		{
			name: "empty",
			fsys: fstest.MapFS{".": &fstest.MapFile{Mode: fs.ModeDir}},
		},
		{
			name: "top-level files of every extension",
			fsys: files("a.js", v1, "b.mjs", v2, "c.cjs", v1, "d.ts", v2, "e.tsx", v2, "f.mts", v2, "g.cts", v1),
			want: []Function{
				{Name: "a", Runtime: RuntimeJS, Entry: "a.js", Kind: KindSync},
				{Name: "b", Runtime: RuntimeJS, Entry: "b.mjs", Kind: KindSync},
				{Name: "c", Runtime: RuntimeJS, Entry: "c.cjs", Kind: KindSync},
				{Name: "d", Runtime: RuntimeTS, Entry: "d.ts", Kind: KindSync},
				{Name: "e", Runtime: RuntimeTS, Entry: "e.tsx", Kind: KindSync},
				{Name: "f", Runtime: RuntimeTS, Entry: "f.mts", Kind: KindSync},
				{Name: "g", Runtime: RuntimeTS, Entry: "g.cts", Kind: KindSync},
			},
		},
		{
			name: "other files, declarations, dotfiles and node_modules are skipped",
			fsys: files(
				"package.json", "{}", "README.md", "# hi", "old.zip", "PK",
				"types.d.ts", "x", "types.d.mts", "x", "types.d.cts", "x",
				".DS_Store", "x", ".eslintrc.js", v1, ".cache/index.js", v1,
				"node_modules/index.js", v1, "node_modules/node_modules.js", v1,
				"hello.js", v1,
			),
			want: []Function{{Name: "hello", Runtime: RuntimeJS, Entry: "hello.js", Kind: KindSync}},
		},
		{
			name: "only the top level is read",
			fsys: files("lib/util.js", v1, "lib/deep/deep.js", v1, "api/index.js", v1, "api/nested/index.js", v1),
			want: []Function{{Name: "api", Runtime: RuntimeJS, Entry: "api/index.js", Dir: "api", Kind: KindSync}},
		},
		{
			name: "folder entry files",
			fsys: files(
				"a/a.js", v1, "b/index.js", v1, "c/c.ts", v2, "d/index.ts", v2,
				"e/e.mjs", v2, "f/index.mjs", v2, "g/g.cjs", v1, "h/index.cjs", v1,
				"i/i.tsx", v2, "j/index.tsx", v2, "k/k.mts", v2, "l/index.mts", v2,
				"m/m.cts", v1, "n/index.cts", v1,
			),
			want: []Function{
				{Name: "a", Runtime: RuntimeJS, Entry: "a/a.js", Dir: "a", Kind: KindSync},
				{Name: "b", Runtime: RuntimeJS, Entry: "b/index.js", Dir: "b", Kind: KindSync},
				{Name: "c", Runtime: RuntimeTS, Entry: "c/c.ts", Dir: "c", Kind: KindSync},
				{Name: "d", Runtime: RuntimeTS, Entry: "d/index.ts", Dir: "d", Kind: KindSync},
				{Name: "e", Runtime: RuntimeJS, Entry: "e/e.mjs", Dir: "e", Kind: KindSync},
				{Name: "f", Runtime: RuntimeJS, Entry: "f/index.mjs", Dir: "f", Kind: KindSync},
				{Name: "g", Runtime: RuntimeJS, Entry: "g/g.cjs", Dir: "g", Kind: KindSync},
				{Name: "h", Runtime: RuntimeJS, Entry: "h/index.cjs", Dir: "h", Kind: KindSync},
				{Name: "i", Runtime: RuntimeTS, Entry: "i/i.tsx", Dir: "i", Kind: KindSync},
				{Name: "j", Runtime: RuntimeTS, Entry: "j/index.tsx", Dir: "j", Kind: KindSync},
				{Name: "k", Runtime: RuntimeTS, Entry: "k/k.mts", Dir: "k", Kind: KindSync},
				{Name: "l", Runtime: RuntimeTS, Entry: "l/index.mts", Dir: "l", Kind: KindSync},
				{Name: "m", Runtime: RuntimeTS, Entry: "m/m.cts", Dir: "m", Kind: KindSync},
				{Name: "n", Runtime: RuntimeTS, Entry: "n/index.cts", Dir: "n", Kind: KindSync},
			},
		},
		{
			name: "folder entry precedence",
			fsys: files(
				// name.js > index.js > name.ts > index.ts > name.mjs > …
				"a/a.js", v1, "a/index.js", v1, "a/a.ts", v2,
				"b/index.js", v1, "b/b.ts", v2,
				"c/c.ts", v2, "c/index.ts", v2, "c/c.mjs", v2,
				"d/index.ts", v2, "d/d.mjs", v2,
				"e/index.cjs", v1, "e/e.tsx", v2,
				"f/index.tsx", v2, "f/f.mts", v2,
				"g/index.mts", v2, "g/g.cts", v1,
			),
			want: []Function{
				{Name: "a", Runtime: RuntimeJS, Entry: "a/a.js", Dir: "a", Kind: KindSync},
				{Name: "b", Runtime: RuntimeJS, Entry: "b/index.js", Dir: "b", Kind: KindSync},
				{Name: "c", Runtime: RuntimeTS, Entry: "c/c.ts", Dir: "c", Kind: KindSync},
				{Name: "d", Runtime: RuntimeTS, Entry: "d/index.ts", Dir: "d", Kind: KindSync},
				{Name: "e", Runtime: RuntimeJS, Entry: "e/index.cjs", Dir: "e", Kind: KindSync},
				{Name: "f", Runtime: RuntimeTS, Entry: "f/index.tsx", Dir: "f", Kind: KindSync},
				{Name: "g", Runtime: RuntimeTS, Entry: "g/index.mts", Dir: "g", Kind: KindSync},
			},
		},
		{
			name: "folder without an entry file is not a function",
			fsys: files("lib/helpers.js", v1, "lib/package.json", "{}", "assets/logo.svg", "<svg/>"),
		},
		{
			name: "a folder entry must be a file",
			fsys: fstest.MapFS{
				"x/index.js/keep": &fstest.MapFile{},
				"x/index.ts":      &fstest.MapFile{Data: []byte(v2)},
			},
			want: []Function{{Name: "x", Runtime: RuntimeTS, Entry: "x/index.ts", Dir: "x", Kind: KindSync}},
		},
		{
			name: "go folders",
			fsys: files("a/main.go", g, "b/b.go", g, "c/c.go", g, "c/main.go", g, "d/util.go", g),
			want: []Function{
				{Name: "a", Runtime: RuntimeGo, Entry: "a/main.go", Dir: "a", Kind: KindSync},
				{Name: "b", Runtime: RuntimeGo, Entry: "b/b.go", Dir: "b", Kind: KindSync},
				{Name: "c", Runtime: RuntimeGo, Entry: "c/c.go", Dir: "c", Kind: KindSync},
			},
		},
		{
			name: "go folder beats a JS file",
			fsys: files("hello.js", v1, "hello/main.go", g),
			want: []Function{{Name: "hello", Runtime: RuntimeGo, Entry: "hello/main.go", Dir: "hello", Kind: KindSync}},
			warn: []string{"hello.js is shadowed by hello/main.go (a folder wins over a file)"},
		},
		{
			name: "JavaScript before Go inside one folder",
			fsys: files("hello/main.go", g, "hello/index.js", v1, "hello/go.mod", "module x"),
			want: []Function{{Name: "hello", Runtime: RuntimeJS, Entry: "hello/index.js", Dir: "hello", Kind: KindSync}},
			warn: []string{"hello/main.go is ignored: hello/index.js makes hello/ a JavaScript function (Netlify looks for JavaScript before Go)"},
		},
		{
			name: "folder beats file",
			fsys: files("hello.js", v1, "hello.ts", v2, "hello/index.js", v1),
			want: []Function{{Name: "hello", Runtime: RuntimeJS, Entry: "hello/index.js", Dir: "hello", Kind: KindSync}},
			warn: []string{
				"hello.js is shadowed by hello/index.js (a folder wins over a file)",
				"hello.ts is shadowed by hello/index.js (a folder wins over a file)",
			},
		},
		{
			name: "file extension precedence",
			fsys: files(
				"a.js", v1, "a.mjs", v2,
				"b.mjs", v2, "b.cjs", v1,
				"c.cjs", v1, "c.ts", v2,
				"d.ts", v2, "d.tsx", v2,
				"e.tsx", v2, "e.mts", v2,
				"f.mts", v2, "f.cts", v1,
				"g.cts", v1, "g.js", v1, "g.ts", v2,
			),
			want: []Function{
				{Name: "a", Runtime: RuntimeJS, Entry: "a.js", Kind: KindSync},
				{Name: "b", Runtime: RuntimeJS, Entry: "b.mjs", Kind: KindSync},
				{Name: "c", Runtime: RuntimeJS, Entry: "c.cjs", Kind: KindSync},
				{Name: "d", Runtime: RuntimeTS, Entry: "d.ts", Kind: KindSync},
				{Name: "e", Runtime: RuntimeTS, Entry: "e.tsx", Kind: KindSync},
				{Name: "f", Runtime: RuntimeTS, Entry: "f.mts", Kind: KindSync},
				{Name: "g", Runtime: RuntimeJS, Entry: "g.js", Kind: KindSync},
			},
			warn: []string{
				"a.mjs is shadowed by a.js (.js wins over .mjs)",
				"b.cjs is shadowed by b.mjs (.mjs wins over .cjs)",
				"c.ts is shadowed by c.cjs (.cjs wins over .ts)",
				"d.tsx is shadowed by d.ts (.ts wins over .tsx)",
				"e.mts is shadowed by e.tsx (.tsx wins over .mts)",
				"f.cts is shadowed by f.mts (.mts wins over .cts)",
				"g.ts is shadowed by g.js (.js wins over .ts)",
				"g.cts is shadowed by g.js (.js wins over .cts)",
			},
		},
		{
			name: "folder name with a dot",
			fsys: files("api.v2/api.v2.js", v1, "tool.x/main.go", g),
			want: []Function{
				{Name: "api", Runtime: RuntimeJS, Entry: "api.v2/api.v2.js", Dir: "api.v2", Kind: KindSync},
				{Name: "tool", Runtime: RuntimeGo, Entry: "tool.x/main.go", Dir: "tool.x", Kind: KindSync},
			},
			warn: []string{
				"folder api.v2/ gives the function name api: Netlify drops the part of a folder name after its last dot",
				"folder tool.x/ gives the function name tool: Netlify drops the part of a folder name after its last dot",
			},
		},
		{
			name: "two folders with one name",
			fsys: files("api/index.js", v1, "api.v1/index.js", v1, "api.v0/main.go", g),
			want: []Function{{Name: "api", Runtime: RuntimeGo, Entry: "api.v0/main.go", Dir: "api.v0", Kind: KindSync}},
			warn: []string{
				"folder api.v0/ gives the function name api: Netlify drops the part of a folder name after its last dot",
				"folder api.v1/ gives the function name api: Netlify drops the part of a folder name after its last dot",
				"api/index.js is shadowed by api.v0/main.go (both are named api)",
				"api.v1/index.js is shadowed by api.v0/main.go (both are named api)",
			},
		},
		{
			name: "invalid names are listed with a warning",
			fsys: files("hello world.js", v1, "héllo.ts", v2, "my.fn.js", v1, "ok_Name-2.js", v1),
			want: []Function{
				{Name: "hello world", Runtime: RuntimeJS, Entry: "hello world.js", Kind: KindSync, Invalid: InvalidName},
				{Name: "héllo", Runtime: RuntimeTS, Entry: "héllo.ts", Kind: KindSync, Invalid: InvalidName},
				{Name: "my.fn", Runtime: RuntimeJS, Entry: "my.fn.js", Kind: KindSync, Invalid: InvalidName},
				{Name: "ok_Name-2", Runtime: RuntimeJS, Entry: "ok_Name-2.js", Kind: KindSync},
			},
			warn: []string{
				"Function name 'hello world' is invalid. It should consist only of alphanumeric characters, hyphen & underscores.",
				"Function name 'héllo' is invalid. It should consist only of alphanumeric characters, hyphen & underscores.",
				"Function name 'my.fn' is invalid. It should consist only of alphanumeric characters, hyphen & underscores.",
			},
		},
		{
			name: "reserved name",
			fsys: files("___netlify-entry-point.js", v1),
			want: []Function{{
				Name: "___netlify-entry-point", Runtime: RuntimeJS, Entry: "___netlify-entry-point.js", Kind: KindSync,
				Invalid: "'___netlify-entry-point' is a reserved word and cannot be used as a function name.",
			}},
			warn: []string{"'___netlify-entry-point' is a reserved word and cannot be used as a function name."},
		},
		{
			name: "symbolic link to a file counts",
			fsys: fstest.MapFS{
				"shared/real.js": &fstest.MapFile{Data: []byte(v2 + "export const config = { background: true }\n")},
				"linked.js":      &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("shared/real.js")},
			},
			want: []Function{{Name: "linked", Runtime: RuntimeJS, Entry: "linked.js", Kind: KindBackground}},
		},
		{
			name: "symbolic link to a folder is not followed",
			fsys: fstest.MapFS{
				"elsewhere/fn/index.js": &fstest.MapFile{Data: []byte(v1)},
				"elsewhere/lib/util.js": &fstest.MapFile{Data: []byte(v1)},
				"fn":                    &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("elsewhere/fn")},
				"lib":                   &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("elsewhere/lib")},
			},
			warn: []string{"fn is a symbolic link to a folder, which Netlify does not follow, so fn/index.js is not a function"},
		},
		{
			name: "symbolic link as a folder entry",
			fsys: fstest.MapFS{
				"fn/index.js": &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("../impl.cjs")},
				"impl.cjs":    &fstest.MapFile{Data: []byte(v1)},
			},
			want: []Function{
				{Name: "fn", Runtime: RuntimeJS, Entry: "fn/index.js", Dir: "fn", Kind: KindSync},
				{Name: "impl", Runtime: RuntimeJS, Entry: "impl.cjs", Kind: KindSync},
			},
		},
		{
			name: "dangling link is listed and left to the build",
			fsys: fstest.MapFS{"gone.js": &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("nowhere.js")}},
			want: []Function{{Name: "gone", Runtime: RuntimeJS, Entry: "gone.js", Kind: KindSync}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warn, err := Discover(tt.fsys, nil)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("functions:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(warn, tt.warn) {
				t.Errorf("warnings:\n got %q\nwant %q", warn, tt.warn)
			}
		})
	}
}

func TestDiscoverKind(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		settings map[string]Settings
		want     []Function
		warn     []string
	}{
		{
			name: "name suffix",
			fsys: files("send-background.js", v1, "go-background/main.go", g, "ts-background/index.ts", v2),
			want: []Function{
				{Name: "go-background", Runtime: RuntimeGo, Entry: "go-background/main.go", Dir: "go-background", Kind: KindBackground},
				{Name: "send-background", Runtime: RuntimeJS, Entry: "send-background.js", Kind: KindBackground},
				{Name: "ts-background", Runtime: RuntimeTS, Entry: "ts-background/index.ts", Dir: "ts-background", Kind: KindBackground},
			},
		},
		{
			name: "suffix is case-sensitive and must be a suffix",
			fsys: files("send-Background.js", v1, "background-send.js", v1),
			want: []Function{
				{Name: "background-send", Runtime: RuntimeJS, Entry: "background-send.js", Kind: KindSync},
				{Name: "send-Background", Runtime: RuntimeJS, Entry: "send-Background.js", Kind: KindSync},
			},
		},
		{
			name:     "settings background true",
			fsys:     files("send.js", v1, "gofn/main.go", g),
			settings: map[string]Settings{"send": {Background: &yes}, "gofn": {Background: &yes}},
			want: []Function{
				{Name: "gofn", Runtime: RuntimeGo, Entry: "gofn/main.go", Dir: "gofn", Kind: KindBackground},
				{Name: "send", Runtime: RuntimeJS, Entry: "send.js", Kind: KindBackground},
			},
		},
		{
			name:     "settings background false does not undo the suffix",
			fsys:     files("send-background.js", v1),
			settings: map[string]Settings{"send-background": {Background: &no}},
			want:     []Function{{Name: "send-background", Runtime: RuntimeJS, Entry: "send-background.js", Kind: KindBackground}},
			warn:     []string{"send-background: background = false in netlify.toml has no effect: a name ending in -background always makes a background function"},
		},
		{
			name:     "settings background false does not undo in-source config",
			fsys:     files("send.mjs", v2+"export const config = { background: true }\n"),
			settings: map[string]Settings{"send": {Background: &no}},
			want:     []Function{{Name: "send", Runtime: RuntimeJS, Entry: "send.mjs", Kind: KindBackground}},
		},
		{
			name: "in-source background",
			fsys: files("send.mts", "import type { Config } from '@netlify/functions'\n"+v2+"export const config: Config = {\n  background: true,\n}\n"),
			want: []Function{{Name: "send", Runtime: RuntimeTS, Entry: "send.mts", Kind: KindBackground}},
		},
		{
			name: "in-source background false",
			fsys: files("send.mjs", v2+"export const config = { background: false }\n"),
			want: []Function{{Name: "send", Runtime: RuntimeJS, Entry: "send.mjs", Kind: KindSync}},
		},
		{
			name: "in-source config of a v1 function is ignored",
			fsys: files("send.js", v1+"exports.config = { background: true }\n"),
			want: []Function{{Name: "send", Runtime: RuntimeJS, Entry: "send.js", Kind: KindSync}},
			warn: []string{"send.js: the exported config is ignored: Netlify reads in-source config only from v2 functions (a default export and no handler export)"},
		},
		{
			name: "in-source config in a folder entry",
			fsys: files("job/index.ts", v2+"export const config = { background: true }\n", "job/lib.ts", "export const config = { background: false }\n"),
			want: []Function{{Name: "job", Runtime: RuntimeTS, Entry: "job/index.ts", Dir: "job", Kind: KindBackground}},
		},
		{
			name: "shadowed file's config does not count",
			fsys: files("job.js", v2+"export const config = { background: true }\n", "job/index.js", v2),
			want: []Function{{Name: "job", Runtime: RuntimeJS, Entry: "job/index.js", Dir: "job", Kind: KindSync}},
			warn: []string{"job.js is shadowed by job/index.js (a folder wins over a file)"},
		},
		{
			name:     "settings schedule",
			fsys:     files("tick.js", v1, "gotick/main.go", g),
			settings: map[string]Settings{"tick": {Schedule: "@hourly"}, "gotick": {Schedule: "*/5 * * * *"}},
			want: []Function{
				{Name: "gotick", Runtime: RuntimeGo, Entry: "gotick/main.go", Dir: "gotick", Kind: KindScheduled, Schedule: "*/5 * * * *"},
				{Name: "tick", Runtime: RuntimeJS, Entry: "tick.js", Kind: KindScheduled, Schedule: "@hourly"},
			},
		},
		{
			name: "in-source config schedule",
			fsys: files("tick.mjs", v2+"export const config = { schedule: '@daily' }\n"),
			want: []Function{{Name: "tick", Runtime: RuntimeJS, Entry: "tick.mjs", Kind: KindScheduled, Schedule: "@daily"}},
		},
		{
			name: "v1 schedule helper",
			fsys: files("tick.ts", "import { schedule } from '@netlify/functions'\nexport const handler = schedule('0 * * * *', async () => ({ statusCode: 200 }))\n"),
			want: []Function{{Name: "tick", Runtime: RuntimeTS, Entry: "tick.ts", Kind: KindScheduled, Schedule: "0 * * * *"}},
		},
		{
			name:     "in-source schedule overrides settings",
			fsys:     files("tick.mjs", v2+"export const config = { schedule: '@daily' }\n", "same.mjs", v2+"export const config = { schedule: '@daily' }\n"),
			settings: map[string]Settings{"tick": {Schedule: "@hourly"}, "same": {Schedule: "@daily"}},
			want: []Function{
				{Name: "same", Runtime: RuntimeJS, Entry: "same.mjs", Kind: KindScheduled, Schedule: "@daily"},
				{Name: "tick", Runtime: RuntimeJS, Entry: "tick.mjs", Kind: KindScheduled, Schedule: "@daily"},
			},
			warn: []string{`tick: the schedule "@daily" in tick.mjs overrides "@hourly" from netlify.toml`},
		},
		{
			name: "background wins over scheduled",
			fsys: files(
				"a-background.mjs", v2+"export const config = { schedule: '@daily' }\n",
				"b.mjs", v2+"export const config = { schedule: '@daily', background: true }\n",
				"c.js", v1,
			),
			settings: map[string]Settings{"c": {Schedule: "@hourly", Background: &yes}},
			want: []Function{
				{Name: "a-background", Runtime: RuntimeJS, Entry: "a-background.mjs", Kind: KindBackground},
				{Name: "b", Runtime: RuntimeJS, Entry: "b.mjs", Kind: KindBackground},
				{Name: "c", Runtime: RuntimeJS, Entry: "c.js", Kind: KindBackground},
			},
			warn: []string{
				`a-background: the schedule "@daily" is ignored because background functions are not scheduled (background wins)`,
				`b: the schedule "@daily" is ignored because background functions are not scheduled (background wins)`,
				`c: the schedule "@hourly" is ignored because background functions are not scheduled (background wins)`,
			},
		},
		{
			name: "go source is not read",
			fsys: files("gofn/main.go", "package main\n// export default 1\n// export const config = { background: true }\n"),
			want: []Function{{Name: "gofn", Runtime: RuntimeGo, Entry: "gofn/main.go", Dir: "gofn", Kind: KindSync}},
		},
		{
			name: "source warnings name the file",
			fsys: files("api/index.ts", v2+"export const config = { background: true } satisfies Config\n"),
			want: []Function{{Name: "api", Runtime: RuntimeTS, Entry: "api/index.ts", Dir: "api", Kind: KindSync}},
			warn: []string{"api/index.ts: the exported config is ignored: the object is wrapped in `satisfies`, which Netlify's parser does not look through; Netlify reads in-source config only from a plain object literal"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			settings := func(name string) Settings {
				asked = append(asked, name)
				return tt.settings[name]
			}
			got, warn, err := Discover(tt.fsys, settings)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("functions:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(warn, tt.warn) {
				t.Errorf("warnings:\n got %q\nwant %q", warn, tt.warn)
			}
			if len(asked) != len(got) {
				t.Errorf("settings asked for %q, want once per function", asked)
			}
		})
	}
}

func TestDiscoverRoutesAndConfigErrors(t *testing.T) {
	yes := true
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		settings map[string]Settings
		want     []Function
		warn     []string
	}{
		{
			name: "routes",
			fsys: files("api.mts", v2+`export const config = {
  path: ["/api/items/:id", "/api/items"],
  excludedPath: "/api/items/secret",
  method: ["get", "POST"],
  preferStatic: true,
}
`),
			want: []Function{{
				Name: "api", Runtime: RuntimeTS, Entry: "api.mts", Kind: KindSync,
				Paths: []string{"/api/items/:id", "/api/items"}, ExcludedPaths: []string{"/api/items/secret"},
				Methods: []string{"GET", "POST"}, PreferStatic: true,
			}},
		},
		{
			name: "routes of a background function",
			fsys: files("jobs.mjs", v2+"export const config = { path: '/jobs', background: true }\n"),
			want: []Function{{Name: "jobs", Runtime: RuntimeJS, Entry: "jobs.mjs", Kind: KindBackground, Paths: []string{"/jobs"}}},
		},
		{
			name: "path error",
			fsys: files("bad.mjs", v2+"export const config = { path: ['/ok', 'api'] }\n"),
			want: []Function{{
				Name: "bad", Runtime: RuntimeJS, Entry: "bad.mjs", Kind: KindSync, Paths: []string{"/ok"},
				ConfigError: "Function bad has a configuration error on 'path': must start with '/'",
			}},
			warn: []string{"Function bad has a configuration error on 'path': must start with '/'"},
		},
		{
			name: "excludedPath error",
			fsys: files("bad.mjs", v2+"export const config = { path: '/a/*', excludedPath: 'a/b' }\n"),
			want: []Function{{
				Name: "bad", Runtime: RuntimeJS, Entry: "bad.mjs", Kind: KindSync, Paths: []string{"/a/*"},
				ConfigError: "Function bad has a configuration error on 'excludedPath': must start with '/'",
			}},
			warn: []string{"Function bad has a configuration error on 'excludedPath': must start with '/'"},
		},
		{
			name: "method error",
			fsys: files("bad.mjs", v2+"export const config = { path: '/a', method: 'FETCH' }\n"),
			want: []Function{{
				Name: "bad", Runtime: RuntimeJS, Entry: "bad.mjs", Kind: KindSync, Paths: []string{"/a"},
				ConfigError: `Function bad has a configuration error on 'method': must be one of GET, POST, PUT, PATCH, OPTIONS, DELETE, HEAD, not "FETCH"`,
			}},
			warn: []string{`Function bad has a configuration error on 'method': must be one of GET, POST, PUT, PATCH, OPTIONS, DELETE, HEAD, not "FETCH"`},
		},
		{
			name: "in-source schedule error",
			fsys: files("tick.mjs", v2+"export const config = { schedule: '0 0 * * * *' }\n"),
			want: []Function{{
				Name: "tick", Runtime: RuntimeJS, Entry: "tick.mjs", Kind: KindScheduled, Schedule: "0 0 * * * *",
				ConfigError: `Function tick has a configuration error on 'schedule': invalid schedule "0 0 * * * *": expected 5 fields (minute hour day-of-month month day-of-week), found 6: a seconds field is not supported`,
			}},
			warn: []string{`Function tick has a configuration error on 'schedule': invalid schedule "0 0 * * * *": expected 5 fields (minute hour day-of-month month day-of-week), found 6: a seconds field is not supported`},
		},
		{
			name: "schedule() error",
			fsys: files("tick.js", "const { schedule } = require('@netlify/functions')\nexports.handler = schedule('@every 5m', async () => ({ statusCode: 200 }))\n"),
			want: []Function{{
				Name: "tick", Runtime: RuntimeJS, Entry: "tick.js", Kind: KindScheduled, Schedule: "@every 5m",
				ConfigError: `Function tick has a configuration error on 'schedule': invalid schedule "@every 5m": @every is not supported: use a cron expression or @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly`,
			}},
			warn: []string{`Function tick has a configuration error on 'schedule': invalid schedule "@every 5m": @every is not supported: use a cron expression or @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly`},
		},
		{
			name:     "netlify.toml schedule error, Go function",
			fsys:     files("tick/main.go", g),
			settings: map[string]Settings{"tick": {Schedule: "61 * * * *"}},
			want: []Function{{
				Name: "tick", Runtime: RuntimeGo, Entry: "tick/main.go", Dir: "tick", Kind: KindScheduled, Schedule: "61 * * * *",
				ConfigError: `Function tick has a configuration error on 'schedule': invalid schedule "61 * * * *": minute field: end of range (61) above maximum (59): 61`,
			}},
			warn: []string{`Function tick has a configuration error on 'schedule': invalid schedule "61 * * * *": minute field: end of range (61) above maximum (59): 61`},
		},
		{
			name:     "a valid in-source schedule overrides a bad netlify.toml one",
			fsys:     files("tick.mjs", v2+"export const config = { schedule: '@daily' }\n"),
			settings: map[string]Settings{"tick": {Schedule: "bad"}},
			want:     []Function{{Name: "tick", Runtime: RuntimeJS, Entry: "tick.mjs", Kind: KindScheduled, Schedule: "@daily"}},
			warn:     []string{`tick: the schedule "@daily" in tick.mjs overrides "bad" from netlify.toml`},
		},
		{
			name:     "the ignored schedule of a background function is not checked",
			fsys:     files("job.mjs", v2),
			settings: map[string]Settings{"job": {Schedule: "bad", Background: &yes}},
			want:     []Function{{Name: "job", Runtime: RuntimeJS, Entry: "job.mjs", Kind: KindBackground}},
			warn:     []string{`job: the schedule "bad" is ignored because background functions are not scheduled (background wins)`},
		},
		{
			name: "the first error wins",
			fsys: files("bad.mjs", v2+"export const config = { path: 'x', method: 'nope', schedule: 'never' }\n"),
			want: []Function{{
				Name: "bad", Runtime: RuntimeJS, Entry: "bad.mjs", Kind: KindScheduled, Schedule: "never",
				ConfigError: `Function bad has a configuration error on 'method': must be one of GET, POST, PUT, PATCH, OPTIONS, DELETE, HEAD, not "nope"`,
			}},
			warn: []string{`Function bad has a configuration error on 'method': must be one of GET, POST, PUT, PATCH, OPTIONS, DELETE, HEAD, not "nope"`},
		},
		{
			name: "an invalid name and a configuration error",
			fsys: files("bad name.mjs", v2+"export const config = { path: 'x' }\n"),
			want: []Function{{
				Name: "bad name", Runtime: RuntimeJS, Entry: "bad name.mjs", Kind: KindSync, Invalid: InvalidName,
				ConfigError: "Function bad name has a configuration error on 'path': must start with '/'",
			}},
			warn: []string{
				"Function name 'bad name' is invalid. It should consist only of alphanumeric characters, hyphen & underscores.",
				"Function bad name has a configuration error on 'path': must start with '/'",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warn, err := Discover(tt.fsys, func(name string) Settings { return tt.settings[name] })
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("functions:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(warn, tt.warn) {
				t.Errorf("warnings:\n got %q\nwant %q", warn, tt.warn)
			}
		})
	}
}

func TestDiscoverMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "netlify", "functions")
	fsys := os.DirFS(dir)
	fns, warn, err := Discover(fsys, nil)
	if fns != nil || warn != nil || err != nil {
		t.Errorf("Discover(missing) = %v, %v, %v; want nil, nil, nil", fns, warn, err)
	}
	if !Missing(fsys) {
		t.Error("Missing(missing dir) = false")
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if Missing(fsys) {
		t.Error("Missing(empty dir) = true")
	}
	if fns, warn, err := Discover(fsys, nil); fns != nil || warn != nil || err != nil {
		t.Errorf("Discover(empty) = %v, %v, %v; want nil, nil, nil", fns, warn, err)
	}
}

func TestDiscoverOS(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hello.js", v1)
	write("job-background/index.mjs", v2)
	write("gofn/main.go", g)
	write("shared/x/index.js", v1)
	if err := os.Symlink(filepath.Join(dir, "shared", "x"), filepath.Join(dir, "linked")); err != nil {
		t.Skipf("symlink: %v", err)
	}

	got, warn, err := Discover(os.DirFS(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Function{
		{Name: "gofn", Runtime: RuntimeGo, Entry: "gofn/main.go", Dir: "gofn", Kind: KindSync},
		{Name: "hello", Runtime: RuntimeJS, Entry: "hello.js", Kind: KindSync},
		{Name: "job-background", Runtime: RuntimeJS, Entry: "job-background/index.mjs", Dir: "job-background", Kind: KindBackground},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions:\n got %+v\nwant %+v", got, want)
	}
	wantWarn := []string{"linked is a symbolic link to a folder, which Netlify does not follow, so linked/index.js is not a function"}
	if !reflect.DeepEqual(warn, wantWarn) {
		t.Errorf("warnings:\n got %q\nwant %q", warn, wantWarn)
	}
}

// errFS fails to open one path, to check that read errors are returned. It
// has only Open, so every fs helper goes through it.
type errFS struct {
	m    fstest.MapFS
	fail string
}

var errBroken = errors.New("broken disk")

func (f errFS) Open(name string) (fs.File, error) {
	if name == f.fail {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errBroken}
	}
	return f.m.Open(name)
}

func TestDiscoverReadErrors(t *testing.T) {
	tests := []struct {
		name string
		fail string
		want string
	}{
		{name: "functions directory", fail: ".", want: "read functions directory: open .: broken disk"},
		{name: "folder", fail: "api", want: "read folder api: open api: broken disk"},
		{name: "entry file", fail: "hello.js", want: "read hello.js: open hello.js: broken disk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := errFS{m: files("hello.js", v1, "api/index.js", v1), fail: tt.fail}
			fns, _, err := Discover(fsys, nil)
			if err == nil || !errors.Is(err, errBroken) || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q wrapping errBroken", err, tt.want)
			}
			if fns != nil {
				t.Errorf("functions = %v, want nil on error", fns)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"hello": true, "Hello_World-2": true, "-": true, "_": true,
		"": false, "a b": false, "a.b": false, "a/b": false, "é": false, "a+b": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
	if !strings.HasSuffix(InvalidName, "hyphen & underscores.") {
		t.Errorf("InvalidName = %q", InvalidName)
	}
}
