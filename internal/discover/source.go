package discover

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/routes"
)

// netlifyFunctionsModule is the package whose schedule helper marks a v1
// scheduled function.
const netlifyFunctionsModule = "@netlify/functions"

// inSource is what a static read of a JS/TS entry file found, following
// zip-it-and-ship-it's in-source configuration rules
// (packages/zip-it-and-ship-it/src/runtimes/node/in_source_config/index.ts and
// parser/exports.ts in netlify/build):
//
//   - A file is a v2 function when it has a default export and no handler
//     export. Only then is its `export const config = {…}` read, and only
//     when the value is a plain object literal: Netlify reads it with a
//     parser, not by running it, so `{…} satisfies Config`, `{…} as const`,
//     variables and function calls are all ignored in production. bgfn
//     ignores them too and says so in a warning.
//   - Of that config, background, schedule, path, excludedPath, method and
//     preferStatic are read. path and excludedPath are a string or an array
//     of strings, each starting with "/"; method is one of GET, POST, PUT,
//     PATCH, OPTIONS, DELETE and HEAD, or an array of them, in any case. A
//     value of the wrong type fails Netlify's build; bgfn records it as a
//     configuration error (errKey, errMsg). A value Netlify cannot read
//     without running the code (a variable, a template literal) counts as
//     absent, with a warning.
//   - A v1 function is scheduled by `export const handler = schedule("cron",
//     fn)` (or exports.handler = …), where schedule is imported or required
//     from @netlify/functions, possibly under another name. The cron
//     expression must be a string literal or a top-level constant holding one.
type inSource struct {
	background    bool
	schedule      string
	paths         []string
	excludedPaths []string
	methods       []string // upper-case
	preferStatic  bool
	// handlers are the member names of a default export that is an object
	// literal (v2 platform-event handlers), or of the object literal a
	// top-level constant exported as default holds.
	handlers []string
	// errKey and errMsg are the first configuration error, on which key and
	// what is wrong: what Netlify's build fails with.
	errKey, errMsg string
	// warnings explain configuration that Netlify would ignore or reject.
	// They do not name the file; the caller adds it.
	warnings []string
}

// jsValue is a literal value read from source. kind is valOther for anything
// that is not a literal, which Netlify's reader treats as absent.
type jsValue struct {
	kind valKind
	b    bool
	s    string
	obj  map[string]jsValue
	arr  []jsValue
}

type valKind uint8

const (
	valOther valKind = iota
	valBool
	valString
	valTemplate // a template literal without substitutions; Netlify ignores it
	valNumber
	valNull
	valArray
	valObject
)

// readInSource reads the in-source configuration of a JS/TS entry file.
func readInSource(src string) inSource {
	toks := tokenize(src)
	var (
		res            inSource
		hasDefault     bool
		hasHandler     bool
		config         *jsValue // nil when no config export was found
		configProblem  string   // why a config export could not be read
		scheduleLocals = map[string]bool{}
		constants      = map[string]jsValue{}
		objects        = map[string][]string{} // const NAME = { … }: its member names
		defaultIdent   string                  // export default NAME
	)

	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.depth != 0 || t.kind != tokIdent || (i > 0 && toks[i-1].punct(".")) {
			continue
		}
		switch t.text {
		case "import":
			for local, imported := range readImport(toks, i) {
				if imported == "schedule" {
					scheduleLocals[local] = true
				}
			}
		case "export":
			next := toks[i+1]
			switch {
			case next.ident("default"):
				hasDefault = true
				switch after := toks[i+2]; {
				case after.punct("{"):
					res.handlers = memberNames(toks, i+2)
				case after.kind == tokIdent && endsStatement(toks[i+3]):
					defaultIdent = after.text
				}
			case next.ident("const") || next.ident("let") || next.ident("var"):
				name := toks[i+2]
				switch {
				case name.ident("handler"):
					hasHandler = true
				case name.ident("config"):
					v, problem := readDeclInit(toks, i+3)
					config, configProblem = &v, problem
				}
			case next.punct("{"):
				for _, exported := range readExportList(toks, i+1) {
					switch exported {
					case "default":
						hasDefault = true
					case "handler":
						hasHandler = true
					}
				}
			}
		case "const", "let", "var":
			// const CRON = "@daily"  (a constant schedule() may refer to)
			name, eq, v := toks[i+1], toks[i+2], toks[i+3]
			if name.kind == tokIdent {
				if j := objectInit(toks, i+2); j > 0 {
					objects[name.text] = memberNames(toks, j)
				}
			}
			if name.kind == tokIdent && eq.punct("=") && v.kind == tokString && endsStatement(toks[i+4]) {
				constants[name.text] = jsValue{kind: valString, s: v.text}
			}
			// const { schedule } = require("@netlify/functions")
			if toks[i+1].punct("{") {
				for local, imported := range readRequire(toks, i+1) {
					if imported == "schedule" {
						scheduleLocals[local] = true
					}
				}
			}
		case "module", "exports":
			// exports.NAME = … and module.exports.NAME = …
			j := i
			if t.text == "module" {
				if !toks[i+1].punct(".") || !toks[i+2].ident("exports") {
					continue
				}
				j = i + 2
			}
			if !toks[j+1].punct(".") || toks[j+2].kind != tokIdent || !toks[j+3].punct("=") {
				continue
			}
			switch toks[j+2].text {
			case "default":
				hasDefault = true
			case "handler":
				hasHandler = true
			case "config":
				if toks[j+4].punct("{") {
					v, _ := readValue(toks, j+4)
					config, configProblem = &v, ""
				}
			}
		}
	}

	if res.handlers == nil && defaultIdent != "" {
		res.handlers = objects[defaultIdent]
	}
	if hasDefault && !hasHandler {
		res.readConfig(config, configProblem)
		return res
	}

	if config != nil && config.kind == valObject {
		for _, key := range v2Keys {
			if _, ok := config.obj[key]; ok {
				res.warn("the exported config is ignored: Netlify reads in-source config only from v2 functions (a default export and no handler export)")
				break
			}
		}
	}
	if len(scheduleLocals) > 0 {
		res.readScheduleCall(toks, scheduleLocals, constants)
	}
	return res
}

// v2Keys are the config keys bgfn reads, which a v1 function's config would
// set in vain.
var v2Keys = []string{"background", "schedule", "path", "excludedPath", "method", "preferStatic"}

// httpMethods are the values Netlify allows for config.method.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "OPTIONS", "DELETE", "HEAD"}

func (r *inSource) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// fail records a configuration error on key, unless there is one already:
// like Netlify, bgfn reports only the first.
func (r *inSource) fail(key, format string, args ...any) {
	if r.errKey == "" {
		r.errKey, r.errMsg = key, fmt.Sprintf(format, args...)
	}
}

// readConfig takes background, schedule, routes and methods from a v2
// function's config.
func (r *inSource) readConfig(config *jsValue, problem string) {
	if config == nil {
		return
	}
	if problem != "" {
		r.warn("the exported config is ignored: %s; Netlify reads in-source config only from a plain object literal", problem)
		return
	}
	if v, ok := config.obj["background"]; ok {
		switch v.kind {
		case valBool:
			r.background = v.b
		default:
			r.warn("config.background is ignored: it must be a literal true or false (Netlify reads in-source config without running it)")
		}
	}
	if v, ok := config.obj["schedule"]; ok {
		switch v.kind {
		case valString:
			r.schedule = v.s
		case valTemplate:
			r.warn("config.schedule is ignored: Netlify reads only a quoted string, not a template literal")
		default:
			r.warn("config.schedule is ignored: it must be a string literal (Netlify reads in-source config without running it)")
		}
	}
	// The order of Netlify's schema, so the same error comes first.
	if methods, ok := r.stringList(config.obj, "method"); ok {
		for _, m := range methods {
			up := strings.ToUpper(m)
			if !slices.Contains(httpMethods, up) {
				r.fail("method", "must be one of %s, not %q", strings.Join(httpMethods, ", "), m)
				continue
			}
			if !slices.Contains(r.methods, up) {
				r.methods = append(r.methods, up)
			}
		}
	}
	r.paths = r.readPaths(config.obj, "path")
	r.excludedPaths = r.readPaths(config.obj, "excludedPath")
	if v, ok := config.obj["preferStatic"]; ok {
		switch v.kind {
		case valBool:
			r.preferStatic = v.b
		default:
			r.warn("config.preferStatic is ignored: it must be a literal true or false (Netlify ignores it too)")
		}
	}
}

// stringList reads config[key] where Netlify takes a string or an array of
// strings. ok is false when the key is absent or its value is unusable (a
// warning or error says which).
func (r *inSource) stringList(config map[string]jsValue, key string) (list []string, ok bool) {
	v, present := config[key]
	if !present {
		return nil, false
	}
	switch v.kind {
	case valString:
		return []string{v.s}, true
	case valArray:
		for i, e := range v.arr {
			switch e.kind {
			case valString:
				list = append(list, e.s)
			case valTemplate, valOther:
				r.fail(key, "must be a string or an array of strings: element %d is not a quoted string, and Netlify reads in-source config without running it", i)
				return nil, false
			default:
				r.fail(key, "must be a string or an array of strings")
				return nil, false
			}
		}
		return list, true
	case valTemplate:
		r.warn("config.%s is ignored: Netlify reads only a quoted string, not a template literal", key)
	case valOther:
		r.warn("config.%s is ignored: it must be a string literal or an array of them (Netlify reads in-source config without running it)", key)
	default:
		r.fail(key, "must be a string or an array of strings")
	}
	return nil, false
}

// readPaths reads path or excludedPath: each pattern must start with "/" and
// compile. Invalid patterns are left out (after recording the error) and
// repeated ones kept once.
func (r *inSource) readPaths(config map[string]jsValue, key string) []string {
	list, ok := r.stringList(config, key)
	if !ok {
		return nil
	}
	var out []string
	for _, p := range list {
		if !strings.HasPrefix(p, "/") {
			r.fail(key, "must start with '/'")
			continue
		}
		route, err := routes.Compile(p)
		if err != nil {
			r.fail(key, "%v", err)
			continue
		}
		if slices.Contains(out, p) {
			continue
		}
		out = append(out, p)
		switch lower := strings.ToLower(p); {
		case !route.Literal():
		case lower != p:
			r.warn("config.%s %q never matches: request paths are lower-cased before they are matched, in netlify dev too", key, p)
		case len(p) > 1 && strings.HasSuffix(p, "/"):
			r.warn("config.%s %q never matches: request paths lose their trailing slash before they are matched, in netlify dev too; write %q", key, p, strings.TrimSuffix(p, "/"))
		}
	}
	return out
}

// readScheduleCall finds a top-level call of the schedule helper and takes
// its cron expression. zip-it-and-ship-it fails the build when the helper is
// imported but not called, or called without a readable cron expression;
// bgfn warns instead.
func (r *inSource) readScheduleCall(toks []token, locals map[string]bool, constants map[string]jsValue) {
	for i := 0; i+2 < len(toks); i++ {
		t := toks[i]
		if t.depth != 0 || t.kind != tokIdent || !locals[t.text] || !toks[i+1].punct("(") ||
			(i > 0 && (toks[i-1].punct(".") || toks[i-1].ident("function"))) {
			continue
		}
		arg, end := readValue(toks, i+2)
		complete := toks[end].punct(",") || toks[end].punct(")")
		if complete && arg.kind == valOther && toks[i+2].kind == tokIdent {
			arg = constants[toks[i+2].text] // zero (valOther) when unknown
		}
		if !complete {
			arg = jsValue{}
		}
		if arg.kind == valString && arg.s != "" {
			r.schedule = arg.s
			return
		}
		r.warn("the cron expression passed to schedule() must be a string literal or a constant declared in this file; Netlify fails the build otherwise")
		return
	}
	r.warn("schedule is imported from %s but never called; Netlify fails the build unless the handler is exported as schedule(\"cron\", handler)", netlifyFunctionsModule)
}

// endsStatement reports whether t can follow a complete initializer: the
// value was the whole expression.
func endsStatement(t token) bool {
	switch t.kind {
	case tokEOF, tokIdent:
		// An identifier here starts the next statement (automatic semicolon
		// insertion), since none can continue an expression after a literal.
		return true
	case tokPunct:
		return t.text == ";" || t.text == "," || t.text == "}"
	}
	return false
}

// readDeclInit reads the initializer of `export const config …` starting at
// toks[i], just after the name: an optional TypeScript annotation, "=", then
// the value. problem is non-empty when the value is not a plain object
// literal, which Netlify would not read.
func readDeclInit(toks []token, i int) (v jsValue, problem string) {
	depth := toks[i].depth
	if toks[i].punct(":") {
		// Skip the type annotation up to the "=" at the declaration's level.
		for toks[i].kind != tokEOF && !(toks[i].depth == depth && (toks[i].punct("=") || toks[i].punct(";"))) {
			i++
		}
	}
	if !toks[i].punct("=") {
		return jsValue{}, "it has no initializer"
	}
	i++
	// Parentheses around an object literal do not change it.
	open := 0
	for toks[i].punct("(") {
		open++
		i++
	}
	if !toks[i].punct("{") {
		return jsValue{}, "it is not an object literal"
	}
	v, i = readValue(toks, i)
	for ; open > 0 && toks[i].punct(")"); open-- {
		i++
	}
	switch next := toks[i]; {
	case next.ident("satisfies"), next.ident("as"):
		return v, fmt.Sprintf("the object is wrapped in `%s`, which Netlify's parser does not look through", next.text)
	case open > 0 || !endsStatement(next):
		return v, "it is not an object literal"
	}
	return v, ""
}

// readValue reads the literal value starting at toks[i] and returns it with
// the index of the token after it. Anything that is not a literal (an
// identifier, a call, an expression) reads as valOther and the index points
// at the token after the first token of it; callers check that the next
// token ends the value. `!0` and `!1` read as true and false, as in Netlify's
// reader, because minifiers write booleans that way.
func readValue(toks []token, i int) (jsValue, int) {
	t := toks[i]
	switch t.kind {
	case tokString:
		return jsValue{kind: valString, s: t.text}, i + 1
	case tokTemplate:
		if t.subst {
			return jsValue{}, i + 1
		}
		return jsValue{kind: valTemplate, s: t.text}, i + 1
	case tokNumber:
		return jsValue{kind: valNumber, s: t.text}, i + 1
	case tokIdent:
		switch t.text {
		case "true", "false":
			return jsValue{kind: valBool, b: t.text == "true"}, i + 1
		case "null":
			return jsValue{kind: valNull}, i + 1
		}
	case tokPunct:
		switch t.text {
		case "{":
			return readObject(toks, i)
		case "[":
			return readArray(toks, i)
		case "!":
			if n := toks[i+1]; n.kind == tokNumber {
				f, err := strconv.ParseFloat(n.text, 64)
				if err != nil {
					return jsValue{}, i + 2
				}
				return jsValue{kind: valBool, b: f == 0}, i + 2
			}
		case "-":
			if n := toks[i+1]; n.kind == tokNumber {
				return jsValue{kind: valNumber, s: "-" + n.text}, i + 2
			}
		}
	case tokEOF:
		return jsValue{}, i
	}
	return jsValue{}, i + 1
}

// readObject reads the object literal whose "{" is toks[i]. Properties with
// an identifier or string key and a literal value are kept; methods, spreads,
// shorthands and computed keys are skipped; a property whose value is not a
// literal is kept as valOther, so callers can tell "absent" from "not
// readable".
func readObject(toks []token, i int) (jsValue, int) {
	obj := jsValue{kind: valObject, obj: map[string]jsValue{}}
	depth := toks[i].depth
	i++
	for {
		t := toks[i]
		if t.kind == tokEOF {
			return obj, i
		}
		if t.depth == depth && t.punct("}") {
			return obj, i + 1
		}
		if t.punct(",") {
			i++
			continue
		}
		if (t.kind == tokIdent || t.kind == tokString || t.kind == tokNumber) && toks[i+1].punct(":") {
			v, end := readValue(toks, i+2)
			if !isMemberEnd(toks[end], depth) {
				v = jsValue{}
			}
			obj.obj[t.text] = v
			i = end
		}
		i = skipMember(toks, i, depth)
	}
}

// objectInit returns the index of the "{" of an object literal that
// initializes a declaration, starting at toks[i] just after the name (`=
// {`, or with a TypeScript annotation `: Handlers = {`), or 0.
func objectInit(toks []token, i int) int {
	depth := toks[i].depth
	if toks[i].punct(":") {
		// The annotation ends at the "=" at the declaration's level; a few
		// dozen tokens is plenty for a type name.
		for n := 0; n < 64 && toks[i].kind != tokEOF && !(toks[i].depth == depth && (toks[i].punct("=") || toks[i].punct(";"))); n++ {
			i++
		}
	}
	if toks[i].punct("=") && toks[i+1].punct("{") {
		return i + 1
	}
	return 0
}

// memberNames lists the member names of the object literal whose "{" is
// toks[i]: `name: …`, `name(…) {…}`, `async name(…)`, `"name": …` and the
// shorthand `name`; spreads and computed keys are skipped, since only
// running the code could tell them.
func memberNames(toks []token, i int) []string {
	depth := toks[i].depth
	names := []string{}
	for i++; ; {
		t := toks[i]
		if t.kind == tokEOF || t.depth == depth && t.punct("}") {
			return names
		}
		if t.punct(",") {
			i++
			continue
		}
		// Modifiers before a method name: async, get, set, a generator's *.
		for (t.ident("async") || t.ident("get") || t.ident("set") || t.punct("*")) && (toks[i+1].kind == tokIdent || toks[i+1].kind == tokString || toks[i+1].punct("*")) {
			i++
			t = toks[i]
		}
		if t.kind == tokIdent || t.kind == tokString {
			if n := toks[i+1]; n.punct(":") || n.punct("(") || isMemberEnd(n, depth) {
				names = append(names, t.text)
			}
		}
		i = skipMember(toks, i, depth)
	}
}

// readArray reads the array literal whose "[" is toks[i]. Elements that are
// not literals, holes and spreads read as valOther.
func readArray(toks []token, i int) (jsValue, int) {
	arr := jsValue{kind: valArray}
	depth := toks[i].depth
	i++
	for {
		t := toks[i]
		switch {
		case t.kind == tokEOF:
			return arr, i
		case t.depth == depth && t.punct("]"):
			return arr, i + 1
		case t.depth == depth+1 && t.punct(","):
			arr.arr = append(arr.arr, jsValue{}) // a hole: [a, , b]
			i++
			continue
		}
		v, end := readValue(toks, i)
		if !isElementEnd(toks[end], depth) {
			v = jsValue{}
		}
		arr.arr = append(arr.arr, v)
		for i = end; !isElementEnd(toks[i], depth); i++ {
		}
		if toks[i].punct(",") {
			i++
		}
	}
}

// isElementEnd reports whether t ends an element of an array literal at
// depth.
func isElementEnd(t token, depth int) bool {
	return t.kind == tokEOF || (t.depth == depth+1 && t.punct(",")) || (t.depth == depth && t.punct("]"))
}

// isMemberEnd reports whether t ends a member of an object literal at depth.
func isMemberEnd(t token, depth int) bool {
	return t.kind == tokEOF || (t.depth == depth+1 && t.punct(",")) || (t.depth == depth && t.punct("}"))
}

// skipMember advances to the "," or "}" that ends the current member of the
// object literal at depth.
func skipMember(toks []token, i, depth int) int {
	for !isMemberEnd(toks[i], depth) {
		i++
	}
	return i
}

// readImport reads the import declaration at toks[i] and, when it imports
// from @netlify/functions, returns its named imports as local name →
// imported name. Type-only imports are left out: they cannot be called.
func readImport(toks []token, i int) map[string]string {
	i++
	if toks[i].punct("(") || toks[i].punct(".") || toks[i].ident("type") && !toks[i+1].ident("from") {
		return nil // import("x"), import.meta, import type …
	}
	// Outside its braces an import clause has a handful of tokens
	// (`type`, a default name, `,`, `* as ns`, `from`); giving up after a few
	// keeps broken code from making this quadratic.
	braces := -1
	for n := 0; n < 8; n++ {
		switch t := toks[i]; {
		case t.punct("{") && braces < 0:
			braces = i
			depth := t.depth
			for i++; toks[i].kind != tokEOF && !(toks[i].depth == depth && toks[i].punct("}")); i++ {
			}
		case t.ident("from") && toks[i+1].kind == tokString, t.kind == tokString:
			module := t.text
			if t.kind != tokString {
				module = toks[i+1].text
			}
			if module != netlifyFunctionsModule || braces < 0 {
				return nil
			}
			names, _ := readSpecifiers(toks, braces)
			specs := map[string]string{}
			for j := 0; j+1 < len(names); j += 2 {
				specs[names[j+1]] = names[j]
			}
			return specs
		case t.kind == tokEOF || t.punct(";"):
			return nil
		}
		i++
	}
	return nil
}

// readExportList reads `export { a, b as c, d as "e" }` at toks[i] (the
// "{") and returns the exported names.
func readExportList(toks []token, i int) []string {
	names, _ := readSpecifiers(toks, i)
	var exported []string
	for j := 1; j < len(names); j += 2 {
		exported = append(exported, names[j])
	}
	return exported
}

// readSpecifiers reads the import or export specifiers in braces at toks[i]
// and returns them flattened as pairs (outer name, inner name) — (imported,
// local) for imports, (local, exported) for exports — with the index of the
// closing brace. Type-only specifiers are left out.
func readSpecifiers(toks []token, i int) ([]string, int) {
	depth := toks[i].depth
	var pairs []string
	for i++; toks[i].kind != tokEOF && !(toks[i].depth == depth && toks[i].punct("}")); i++ {
		if toks[i].punct(",") {
			continue
		}
		if toks[i].ident("type") && (toks[i+1].kind == tokIdent || toks[i+1].kind == tokString) && !toks[i+1].ident("as") {
			// `type X` or `type X as Y`: skip the whole specifier.
			for !toks[i+1].punct(",") && !(toks[i+1].depth == depth && toks[i+1].punct("}")) && toks[i+1].kind != tokEOF {
				i++
			}
			continue
		}
		if toks[i].kind != tokIdent && toks[i].kind != tokString {
			continue
		}
		first, second := toks[i].text, toks[i].text
		if toks[i+1].ident("as") && (toks[i+2].kind == tokIdent || toks[i+2].kind == tokString) {
			second = toks[i+2].text
			i += 2
		}
		pairs = append(pairs, first, second)
	}
	return pairs, i
}

// readRequire reads `{ a, b: c } = require("module")` at toks[i] (the "{")
// and returns the destructured names as local → imported when the module is
// @netlify/functions.
func readRequire(toks []token, i int) map[string]string {
	depth := toks[i].depth
	specs := map[string]string{}
	for i++; toks[i].kind != tokEOF && !(toks[i].depth == depth && toks[i].punct("}")); i++ {
		t := toks[i]
		if t.kind != tokIdent || toks[i-1].punct("...") {
			continue
		}
		switch next := toks[i+1]; {
		case next.punct(":") && toks[i+2].kind == tokIdent:
			specs[toks[i+2].text] = t.text
			i += 2
		case next.punct(",") || next.punct("}"):
			specs[t.text] = t.text
		}
	}
	if toks[i].kind == tokEOF || !toks[i+1].punct("=") || !toks[i+2].ident("require") ||
		!toks[i+3].punct("(") || toks[i+4].kind != tokString || toks[i+4].text != netlifyFunctionsModule {
		return nil
	}
	return specs
}
