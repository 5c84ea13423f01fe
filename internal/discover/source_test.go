package discover

import (
	"slices"
	"strings"
	"testing"
)

func TestReadInSource(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		background bool
		schedule   string
		paths      []string
		excluded   []string
		methods    []string
		static     bool
		// err is the configuration error as "key: message", "" for none.
		err string
		// warn is a substring each warning must contain, in order; nil means
		// no warnings.
		warn []string
	}{
		{
			name: "no config",
			src:  `export default async (req) => new Response("hi")`,
		},
		{
			name:       "background true",
			src:        "export default async () => {}\nexport const config = { background: true }\n",
			background: true,
		},
		{
			name: "background false",
			src:  "export default async () => {}\nexport const config = { background: false }\n",
		},
		{
			name:       "quoted key and trailing comma",
			src:        `export default () => {}; export const config = { "background": true, };`,
			background: true,
		},
		{
			name:     "schedule",
			src:      `export default () => {}; export const config = { schedule: "@hourly" }`,
			schedule: "@hourly",
		},
		{
			name:     "single-quoted schedule with escapes",
			src:      `export default () => {}; export const config = { schedule: '0 \x30 * * \u002a' }`,
			schedule: "0 0 * * *",
		},
		{
			name:       "background and schedule",
			src:        `export default () => {}; export const config = { schedule: "@daily", background: true }`,
			background: true,
			schedule:   "@daily",
		},
		{
			name:       "minified booleans",
			src:        `export default()=>{};export const config={background:!0,path:"/x"}`,
			background: true,
			paths:      []string{"/x"},
		},
		{
			name: "minified false",
			src:  `export default()=>{};export const config={background:!1}`,
		},
		{
			name: "strings containing braces",
			src: `export default () => {}
export const config = {
  path: "/a/{b}/}",
  name: '{ background: true }',
  method: ` + "`}`" + `,
  background: true,
}`,
			background: true,
			err:        `path: invalid route pattern "/a/{b}/}": unexpected "}" at offset 7, expected the end of the pattern`,
			warn:       []string{"config.method is ignored: Netlify reads only a quoted string, not a template literal"},
		},
		{
			name: "braces only inside strings",
			src:  `export default () => {}; export const config = { path: "}", schedule: "{" }`,

			schedule: "{",
			err:      "path: must start with '/'",
		},
		{
			name: "comments",
			src: `export default () => {}
// export const config = { background: false }
export const config = {
  /* background: false, } */
  // schedule: "@daily" }
  background: /* not false */ true, // }
}`,
			background: true,
		},
		{
			name: "commented-out config only",
			src: `export default () => {}
/* export const config = { background: true } */
// export const config = { background: true }`,
		},
		{
			name: "config inside a string is not config",
			src:  "export default () => {}\nconst s = \"export const config = { background: true }\"\nconst t = `export const config = { background: true }`\n",
		},
		{
			name: "typescript annotation",
			src: `import type { Config, Context } from "@netlify/functions"
export default async (req: Request, context: Context) => new Response("ok")
export const config: Config = { background: true }`,
			background: true,
		},
		{
			name: "typescript generic annotation",
			src: `export default async () => {}
export const config: Partial<Record<string, unknown>> = { schedule: "@weekly" }`,
			schedule: "@weekly",
		},
		{
			name:       "parenthesised object",
			src:        `export default () => {}; export const config = ({ background: true })`,
			background: true,
		},
		{
			name: "satisfies is ignored like in Netlify",
			src: `export default async () => {}
export const config = { background: true } satisfies Config`,
			warn: []string{"wrapped in `satisfies`"},
		},
		{
			name: "as const is ignored like in Netlify",
			src:  `export default () => {}; export const config = { background: true } as const`,
			warn: []string{"wrapped in `as`"},
		},
		{
			name: "config from a call is ignored",
			src:  `export default () => {}; export const config = makeConfig({ background: true })`,
			warn: []string{"not an object literal"},
		},
		{
			name: "nested objects",
			src: `export default () => {}
export const config = {
  rateLimit: { windowLimit: 60, aggregateBy: ["ip", "domain"], nested: { background: false } },
  background: true,
  path: ["/a", "/b"],
}`,
			background: true,
			paths:      []string{"/a", "/b"},
		},
		{
			name: "nested background does not count",
			src:  `export default () => {}; export const config = { rateLimit: { background: true } }`,
		},
		{
			name: "non-literal background",
			src:  `export default () => {}; export const config = { background: process.env.BG === "1" }`,
			warn: []string{"config.background is ignored"},
		},
		{
			name: "string background",
			src:  `export default () => {}; export const config = { background: "true" }`,
			warn: []string{"config.background is ignored"},
		},
		{
			name: "template schedule",
			src:  "export default () => {}; export const config = { schedule: `@daily` }",
			warn: []string{"not a template literal"},
		},
		{
			name:       "template with substitution containing braces",
			src:        "export default () => {}\nexport const config = {\n  path: `/${ {a: '}'}.a }/${`nested ${1}`}`,\n  background: true,\n}\n",
			background: true,
			warn:       []string{"config.path is ignored: it must be a string literal or an array of them"},
		},
		{
			name: "regexp containing quotes and braces",
			src: `const re = /["'{]/g
export default () => re.test("x") / 2
export const config = { background: true }`,
			background: true,
		},
		{
			name: "jsx text with an apostrophe",
			src: `export default () => <p>Don't panic</p>
export const config = { background: true }`,
			background: true,
		},
		{
			name:       "method and spread and shorthand members are skipped",
			src:        `const extra = {}; const schedule = "x"; export default () => {}; export const config = { ...extra, get name() { return "}" }, schedule, background: true }`,
			background: true,
		},
		{
			name:       "CommonJS config with default export",
			src:        `exports.default = async () => {}; exports.config = { background: true }`,
			background: true,
		},
		{
			name:       "export list default",
			src:        `const handle = async () => {}; export { handle as default }; export const config = { background: true }`,
			background: true,
		},
		{
			name: "v1 handler: config ignored",
			src:  `export const handler = async () => ({ statusCode: 200 }); export const config = { background: true }`,
			warn: []string{"only from v2 functions"},
		},
		{
			name: "v1 with both handler and default: config ignored",
			src:  `export const handler = async () => {}; export default handler; export const config = { schedule: "@daily" }`,
			warn: []string{"only from v2 functions"},
		},
		{
			name: "v1 path config ignored",
			src:  `exports.handler = async () => {}; exports.config = { path: "/api" }`,
			warn: []string{"only from v2 functions"},
		},
		{
			name: "v1 unrelated config is not warned about",
			src:  `exports.handler = async () => {}; exports.config = { api: { bodyParser: false } }`,
		},
		{
			name: "no default export: config ignored",
			src:  `export const config = { background: true }`,
			warn: []string{"only from v2 functions"},
		},
		{
			name: "v1 schedule ESM",
			src: `import { schedule } from "@netlify/functions"
export const handler = schedule("@hourly", async () => ({ statusCode: 200 }))`,
			schedule: "@hourly",
		},
		{
			name: "v1 schedule ESM alias",
			src: `import { type Handler, schedule as cron } from '@netlify/functions'
const fn: Handler = async () => ({ statusCode: 200 })
export const handler = cron('*/5 * * * *', fn)`,
			schedule: "*/5 * * * *",
		},
		{
			name: "v1 schedule CommonJS",
			src: `const { schedule } = require("@netlify/functions")
module.exports.handler = schedule("0 0 * * *", async (event) => { return { statusCode: 200 } })`,
			schedule: "0 0 * * *",
		},
		{
			name: "v1 schedule CommonJS alias",
			src: `const { schedule: sched, builder } = require("@netlify/functions");
exports.handler = sched("@daily", async () => {});`,
			schedule: "@daily",
		},
		{
			name: "v1 schedule constant",
			src: `import { schedule } from "@netlify/functions"
const CRON = "@monthly"
export const handler = schedule(CRON, async () => {})`,
			schedule: "@monthly",
		},
		{
			name: "v1 schedule template literal",
			src:  "import { schedule } from \"@netlify/functions\"\nexport const handler = schedule(`@daily`, async () => {})\n",
			warn: []string{"must be a string literal or a constant"},
		},
		{
			name: "v1 schedule imported but not called",
			src: `import { schedule } from "@netlify/functions"
export const handler = async () => {}`,
			warn: []string{"never called"},
		},
		{
			name: "schedule from another module",
			src: `import { schedule } from "node-cron"
export const handler = schedule("@daily", async () => {})`,
		},
		{
			name: "schedule method of another object",
			src: `import { schedule } from "@netlify/functions"
export const handler = schedule("@daily", async () => { agenda.schedule("@hourly") })`,
			schedule: "@daily",
		},
		{
			name: "v2 ignores schedule()",
			src: `import { schedule } from "@netlify/functions"
export default schedule("@daily", async () => {})`,
		},
		{
			name:  "path string",
			src:   `export default () => {}; export const config = { path: "/api/items/:id" }`,
			paths: []string{"/api/items/:id"},
		},
		{
			name:     "path and excludedPath arrays",
			src:      `export default () => {}; export const config = { path: ["/api/*", '/v1/*', "/api/*",], excludedPath: ["/api/health"] }`,
			paths:    []string{"/api/*", "/v1/*"},
			excluded: []string{"/api/health"},
		},
		{
			name:     "excludedPath string",
			src:      `export default () => {}; export const config = { path: "/*", excludedPath: "/static/*" }`,
			paths:    []string{"/*"},
			excluded: []string{"/static/*"},
		},
		{
			name:  "empty path array",
			src:   `export default () => {}; export const config = { path: [] }`,
			paths: nil,
		},
		{
			name: "path without a leading slash",
			src:  `export default () => {}; export const config = { path: "api/items" }`,
			err:  "path: must start with '/'",
		},
		{
			name:  "one bad path in an array keeps the others",
			src:   `export default () => {}; export const config = { path: ["/ok", "bad", "/also"] }`,
			paths: []string{"/ok", "/also"},
			err:   "path: must start with '/'",
		},
		{
			name:     "excludedPath without a leading slash",
			src:      `export default () => {}; export const config = { path: "/a", excludedPath: ["/b", "c"] }`,
			paths:    []string{"/a"},
			excluded: []string{"/b"},
			err:      "excludedPath: must start with '/'",
		},
		{
			name: "empty path string",
			src:  `export default () => {}; export const config = { path: "" }`,
			err:  "path: must start with '/'",
		},
		{
			name: "path that does not compile",
			src:  `export default () => {}; export const config = { path: "/x/:id(" }`,
			err:  `path: invalid route pattern "/x/:id(": unterminated regexp at offset 6`,
		},
		{
			name: "path of the wrong type",
			src:  `export default () => {}; export const config = { path: 42 }`,
			err:  "path: must be a string or an array of strings",
		},
		{
			name: "path array holding a number",
			src:  `export default () => {}; export const config = { path: ["/a", 1] }`,
			err:  "path: must be a string or an array of strings",
		},
		{
			name: "path array holding a variable",
			src:  `const P = "/a"; export default () => {}; export const config = { path: [P] }`,
			err:  "path: must be a string or an array of strings: element 0 is not a quoted string, and Netlify reads in-source config without running it",
		},
		{
			name: "path variable",
			src:  `const P = "/a"; export default () => {}; export const config = { path: P }`,
			warn: []string{"config.path is ignored: it must be a string literal or an array of them"},
		},
		{
			name: "path template",
			src:  "export default () => {}; export const config = { excludedPath: `/a` }",
			warn: []string{"config.excludedPath is ignored: Netlify reads only a quoted string"},
		},
		{
			name:  "upper-case literal path never matches",
			src:   `export default () => {}; export const config = { path: ["/About", "/Users/:Id"] }`,
			paths: []string{"/About", "/Users/:Id"},
			warn:  []string{`config.path "/About" never matches: request paths are lower-cased`},
		},
		{
			name:  "literal path with a trailing slash never matches",
			src:   `export default () => {}; export const config = { path: "/about/" }`,
			paths: []string{"/about/"},
			warn:  []string{`config.path "/about/" never matches: request paths lose their trailing slash before they are matched, in netlify dev too; write "/about"`},
		},
		{
			name:    "method string in lower case",
			src:     `export default () => {}; export const config = { path: "/a", method: "post" }`,
			paths:   []string{"/a"},
			methods: []string{"POST"},
		},
		{
			name:    "method array",
			src:     `export default () => {}; export const config = { method: ["GET", "Head", "get", "OPTIONS", "DELETE", "PUT", "PATCH"] }`,
			methods: []string{"GET", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH"},
		},
		{
			name:    "unknown method",
			src:     `export default () => {}; export const config = { method: ["GET", "FETCH"] }`,
			methods: []string{"GET"},
			err:     `method: must be one of GET, POST, PUT, PATCH, OPTIONS, DELETE, HEAD, not "FETCH"`,
		},
		{
			name: "method of the wrong type",
			src:  `export default () => {}; export const config = { method: true }`,
			err:  "method: must be a string or an array of strings",
		},
		{
			name:  "method error comes before path error",
			src:   `export default () => {}; export const config = { path: "x", method: "NOPE" }`,
			err:   `method: must be one of GET, POST, PUT, PATCH, OPTIONS, DELETE, HEAD, not "NOPE"`,
			paths: nil,
		},
		{
			name:   "preferStatic",
			src:    `export default () => {}; export const config = { path: "/", preferStatic: true }`,
			paths:  []string{"/"},
			static: true,
		},
		{
			name:   "minified preferStatic",
			src:    `export default()=>{};export const config={path:"/",preferStatic:!0}`,
			paths:  []string{"/"},
			static: true,
		},
		{
			name:  "preferStatic not a boolean",
			src:   `export default () => {}; export const config = { path: "/", preferStatic: "yes" }`,
			paths: []string{"/"},
			warn:  []string{"config.preferStatic is ignored"},
		},
		{
			name:  "array with holes, spreads and nested values",
			src:   `const more = []; export default () => {}; export const config = { path: ["/a", ...more] }`,
			err:   "path: must be a string or an array of strings: element 1 is not a quoted string, and Netlify reads in-source config without running it",
			paths: nil,
		},
		{
			name:  "array with a trailing comma and nested brackets elsewhere",
			src:   `export default () => {}; export const config = { rateLimit: { aggregateBy: [["ip"], {a: [1, 2]}] }, path: ["/a/(\\d+)", "/b",], }`,
			paths: []string{`/a/(\d+)`, "/b"},
		},
		{
			name: "hashbang and BOM",
			src:  "\ufeff#!/usr/bin/env node\nexport default () => {}\nexport const config = { background: true }\n",

			background: true,
		},
		{
			name: "truncated source does not panic",
			src:  `export default () => {}; export const config = { background: true, schedule: "@da`,

			background: true,
			schedule:   "@da",
		},
		{
			name: "truncated after export",
			src:  `export`,
		},
		{
			name: "truncated require",
			src:  `const { schedule } = require(`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readInSource(tt.src)
			if got.background != tt.background {
				t.Errorf("background = %v, want %v", got.background, tt.background)
			}
			if got.schedule != tt.schedule {
				t.Errorf("schedule = %q, want %q", got.schedule, tt.schedule)
			}
			if !slices.Equal(got.paths, tt.paths) {
				t.Errorf("paths = %q, want %q", got.paths, tt.paths)
			}
			if !slices.Equal(got.excludedPaths, tt.excluded) {
				t.Errorf("excludedPaths = %q, want %q", got.excludedPaths, tt.excluded)
			}
			if !slices.Equal(got.methods, tt.methods) {
				t.Errorf("methods = %q, want %q", got.methods, tt.methods)
			}
			if got.preferStatic != tt.static {
				t.Errorf("preferStatic = %v, want %v", got.preferStatic, tt.static)
			}
			gotErr := ""
			if got.errKey != "" {
				gotErr = got.errKey + ": " + got.errMsg
			}
			if gotErr != tt.err {
				t.Errorf("error = %q, want %q", gotErr, tt.err)
			}
			if len(got.warnings) != len(tt.warn) {
				t.Fatalf("warnings = %q, want %d matching %q", got.warnings, len(tt.warn), tt.warn)
			}
			for i, w := range tt.warn {
				if !strings.Contains(got.warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got.warnings[i], w)
				}
			}
		})
	}
}

// FuzzReadInSource checks that no input makes the reader panic or hang.
func FuzzReadInSource(f *testing.F) {
	for _, s := range []string{
		"export const config = { background: true }",
		"export default `${ {`",
		"const { a: b } = require('@netlify/functions'); b(",
		"/[/]/ / 1 /",
		`'\u{1F600}\uD83D\uDE00\x4`,
		"export { type",
		"export default { async *get set(",
		"const h: { = { a, ...b, [c]: d }; export default h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		readInSource(src)
	})
}
