// Package routes matches request paths against the custom routes of Netlify
// v2 functions (`export const config = { path, excludedPath, method }`).
//
// It does what netlify-cli does in `netlify dev` (see
// /work/shared/reference/netlify-cli.md, section 2, and
// src/lib/functions/netlify-function.ts matchURLPath in netlify/cli):
//
//   - A path whose segments hold no "*", "{", "[" or "(" and do not start with
//     ":" is a literal and must equal the request path. Any other path is a
//     URLPattern pathname, compiled to a regular expression anchored as
//     ^…\/?$, so that one trailing slash is allowed (zip-it-and-ship-it's
//     src/utils/routes.ts).
//   - Before matching, one trailing slash is stripped from the request path
//     and it is lower-cased. So a pattern with upper-case letters never
//     matches anything; bgfn keeps that for parity, and Route.Literal lets a
//     caller warn about it.
//   - The first function, in registry order, with a matching path, a method
//     list that is empty or holds the request method, and no matching
//     excluded path, wins.
//
// Paths given to Match and Lookup are escaped paths, as they appear in the
// request line (url.URL.EscapedPath), like the WHATWG URL pathname
// netlify-cli matches.
package routes

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Route is one compiled path pattern.
type Route struct {
	pattern string
	literal bool
	// text is the literal path, or the fixed text every match starts with,
	// checked before running re.
	text  string
	re    *regexp.Regexp
	names []string // parameter names, in group order
}

// Compile compiles a v2 function path pattern. It must start with "/".
func Compile(pattern string) (*Route, error) {
	r, err := compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid route pattern %q: %w", pattern, err)
	}
	return r, nil
}

func compile(pattern string) (*Route, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Errorf("must start with '/'")
	}
	if isLiteral(pattern) {
		return &Route{pattern: pattern, literal: true, text: encodePath(pattern)}, nil
	}
	parts, err := parsePattern(pattern)
	if err != nil {
		return nil, err
	}
	body, names, err := generate(parts)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile("^" + body + `/?$`)
	if err != nil {
		return nil, err
	}
	if re.NumSubexp() != len(names) {
		// (?<name>…) passes the tokenizer but adds a group.
		return nil, fmt.Errorf("capturing group inside a custom regexp: use (?:…)")
	}
	r := &Route{pattern: pattern, re: re, names: names}
	if len(parts) > 0 && parts[0].typ == partFixed && parts[0].modifier == 0 {
		r.text = encodePath(parts[0].value)
	}
	return r, nil
}

// isLiteral is zip-it-and-ship-it's test: no segment contains "*", "{", "["
// or "(", or starts with ":". A ":" inside a segment ("/a:b") is literal
// there, though URLPattern would read a parameter.
func isLiteral(pattern string) bool {
	for seg := range strings.SplitSeq(pattern, "/") {
		if strings.HasPrefix(seg, ":") || strings.ContainsAny(seg, "*{[(") {
			return false
		}
	}
	return true
}

// String returns the pattern as written; netlify-cli passes it to the
// function as the route (event.route, context.path).
func (r *Route) String() string { return r.pattern }

// Literal reports whether the pattern is a literal path, compared as text.
// A literal with upper-case letters never matches, since request paths are
// lower-cased first.
func (r *Route) Literal() bool { return r.literal }

// Match reports whether the escaped request path matches. params holds the
// named parameters and the unnamed groups ("0", "1", … for each * or
// unnamed (regexp), in order), percent-decoded; an optional parameter that
// matched nothing is absent. params is nil when the pattern has none.
//
// Matching is done on the lower-cased path, but the values are cut from the
// path as given, so they keep their case, as they do in the function's
// context.params.
func (r *Route) Match(path string) (params map[string]string, ok bool) {
	return r.match(trimSlash(path), normalize(path))
}

// match matches the normalised (trimmed, lower-cased) path norm; trimmed is
// the same path before lower-casing.
func (r *Route) match(trimmed, norm string) (map[string]string, bool) {
	if !r.matches(norm) {
		return nil, false
	}
	if r.literal {
		return nil, true
	}
	if len(r.names) == 0 {
		return nil, true
	}
	idx := r.re.FindStringSubmatchIndex(norm)
	src := trimmed
	if len(src) != len(norm) || !isASCII(src) {
		// Lower-casing changed the byte offsets; fall back to the
		// lower-cased values.
		src = norm
	}
	params := make(map[string]string, len(r.names))
	for i, name := range r.names {
		start, end := idx[2*i+2], idx[2*i+3]
		if start < 0 {
			continue
		}
		v := src[start:end]
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
		params[name] = v
	}
	return params, true
}

// matches reports whether the normalised path matches, without extracting
// parameters.
func (r *Route) matches(norm string) bool {
	if r.literal {
		return norm == r.text
	}
	return strings.HasPrefix(norm, r.text) && r.re.MatchString(norm)
}

// trimSlash strips one trailing slash, except from "/".
func trimSlash(path string) string {
	if len(path) > 1 && path[len(path)-1] == '/' {
		return path[:len(path)-1]
	}
	return path
}

// normalize is what netlify-cli does to a request path before matching: strip
// one trailing slash (not from "/"), then lower-case. strings.ToLower does
// not allocate when there is nothing to change.
func normalize(path string) string { return strings.ToLower(trimSlash(path)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Entry is one function's routes, as given to NewTable.
type Entry struct {
	// Function is the function name Lookup returns.
	Function string
	// Paths are the patterns the function answers on (config.path).
	Paths []string
	// Excluded are patterns it does not answer on (config.excludedPath).
	Excluded []string
	// Methods limits the function to these methods (config.method); empty
	// means any. NewTable upper-cases them; the request method is compared
	// as it is, since HTTP methods are case-sensitive.
	Methods []string
	// PreferStatic (config.preferStatic) lets an existing static file win
	// over the function; see LookupStatic.
	PreferStatic bool
}

// Table is the routes of all functions, in registry order. It is safe for
// concurrent use.
type Table struct {
	entries []tableEntry
}

type tableEntry struct {
	fn           string
	paths        []*Route
	excluded     []*Route
	methods      []string
	preferStatic bool
}

// NewTable compiles the entries' patterns, in order. A pattern that does not
// compile is left out and reported in the errors, one per pattern, naming the
// function; the rest of the table still works. Repeated patterns are kept
// once, as in zip-it-and-ship-it.
func NewTable(entries []Entry) (*Table, []error) {
	t := &Table{}
	var errs []error
	compileAll := func(fn string, patterns []string) []*Route {
		var out []*Route
		seen := map[string]bool{}
		for _, p := range patterns {
			if seen[p] {
				continue
			}
			seen[p] = true
			r, err := Compile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("function %s: %w", fn, err))
				continue
			}
			out = append(out, r)
		}
		return out
	}
	for _, e := range entries {
		te := tableEntry{
			fn:           e.Function,
			paths:        compileAll(e.Function, e.Paths),
			excluded:     compileAll(e.Function, e.Excluded),
			preferStatic: e.PreferStatic,
		}
		for _, m := range e.Methods {
			if m = strings.ToUpper(m); !slices.Contains(te.methods, m) {
				te.methods = append(te.methods, m)
			}
		}
		if len(te.paths) > 0 {
			t.entries = append(t.entries, te)
		}
	}
	return t, errs
}

// Lookup finds the function for a request: the first, in table order, that
// has a path matching the escaped request path, allows the method, and has
// no excluded path matching it. pattern is the path that matched, as written;
// params are as for Route.Match.
//
// A miss against literal paths does not allocate (unless the path has
// upper-case letters to lower).
func (t *Table) Lookup(method, path string) (fn, pattern string, params map[string]string, ok bool) {
	return t.LookupStatic(method, path, nil)
}

// LookupStatic is Lookup for `netlify dev`, where a function with
// preferStatic gives way to an existing static file: hasStatic reports
// whether one exists for the path. It is called at most once, and only when
// a preferStatic function matches; then, as in netlify-cli, the search goes
// on with the next function. A nil hasStatic means there are no static files.
func (t *Table) LookupStatic(method, path string, hasStatic func() bool) (fn, pattern string, params map[string]string, ok bool) {
	if t == nil {
		return "", "", nil, false
	}
	trimmed := trimSlash(path)
	norm := strings.ToLower(trimmed)
	static, checked := false, false
	for i := range t.entries {
		e := &t.entries[i]
		if len(e.methods) > 0 && !slices.Contains(e.methods, method) {
			continue
		}
		var (
			matched *Route
			ps      map[string]string
		)
		for _, r := range e.paths {
			if p, ok := r.match(trimmed, norm); ok {
				matched, ps = r, p
				break
			}
		}
		if matched == nil || excluded(e.excluded, norm) {
			continue
		}
		if e.preferStatic && hasStatic != nil {
			if !checked {
				static, checked = hasStatic(), true
			}
			if static {
				continue
			}
		}
		return e.fn, matched.pattern, ps, true
	}
	return "", "", nil, false
}

// excluded reports whether any of routes matches the normalised path.
func excluded(routes []*Route, norm string) bool {
	for _, r := range routes {
		if r.matches(norm) {
			return true
		}
	}
	return false
}
