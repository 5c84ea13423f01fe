package smoke

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/textdist"

	"github.com/bgfn-dev/bgfn/internal/tomltype"
)

// DefaultFile is the smoke file bgfn smoke reads when it is given none.
const DefaultFile = "smoke.toml"

// Suite is one smoke file: its cases in file order.
type Suite struct {
	// File is the path of the smoke file as the user named it.
	File  string
	Cases []*Case
}

// Case is one request and what its answer must be.
type Case struct {
	// File and Line locate the case's [[case]] header, for messages,
	// JUnit and annotations.
	File string
	Line int
	// Index is the case's place in its file, from 0.
	Index int
	Name  string

	// Function or Path says where the request goes.
	Function string
	Path     text
	Method   string
	Wait     bool
	Serial   bool
	// Timeout bounds the whole case, waiting included; 0 means the
	// runner's default.
	Timeout time.Duration

	query      text
	queryTable map[string]text
	headers    map[string]text
	body       requestBody
	scheduled  bool

	checks   []check
	captures []capture

	// uses are the variables the case refers to, provider the case that
	// captures each, and deps the cases that must end before it starts.
	uses     []string
	provider map[string]int
	deps     []int
}

// requestBody is a case's body: text (body = "..."), the bytes of a file
// (body = "@file"), or a JSON tree (json = ...).
type requestBody struct {
	set  bool
	text *text
	raw  []byte
	json any
}

// capture saves a value of a passing case's answer for later cases.
type capture struct {
	name   string
	json   *string
	header string
}

// Target is where the case's request goes, for messages: the function's
// name or the path.
func (c *Case) Target() string {
	if c.Function != "" {
		return c.Function
	}
	return c.Path.String()
}

// Site is what a smoke file is checked against.
type Site struct {
	// Functions are the site's functions: a case naming another is an
	// error, and so is wait = true on one that is not a background function.
	Functions []discover.Function
}

// FileError is a mistake in a smoke file. bgfn smoke exits 2 on one.
type FileError struct {
	File string
	// Line and Col are 1-based; 0 means unknown.
	Line int
	Col  int
	// Key is the TOML key at fault (case.expect.status), when there is one.
	Key string
	Msg string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and checks the smoke file at path.
func Load(path string, site *Site) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{File: path, Msg: "cannot read the smoke file: " + pathErr(err)}
	}
	return Parse(path, data, site)
}

// Parse checks a smoke file's contents. file names it in errors and
// reports; body = "@name" files are read relative to its folder.
func Parse(file string, data []byte, site *Site) (*Suite, error) {
	src := string(data)
	var all toml.Primitive
	md, err := toml.Decode(src, &all)
	if err != nil {
		return nil, syntaxError(file, err)
	}
	whole := &decoder{file: file, md: md, all: all}
	for _, k := range whole.children(nil) {
		if k != "case" {
			return nil, whole.errAt(toml.Key{k}, "unknown key%s (a smoke file holds [[case]] tables)", suggest(k, []string{"case"}))
		}
	}
	if !md.IsDefined("case") {
		return nil, &FileError{File: file, Msg: "no cases: add a [[case]] table (see `bgfn smoke --help`)"}
	}
	if t := md.Type("case"); t != "ArrayHash" {
		return nil, whole.errAt(toml.Key{"case"}, "write each case as a [[case]] table")
	}
	var doc struct {
		Case []toml.Primitive `toml:"case"`
	}
	if err := md.PrimitiveDecode(all, &doc); err != nil {
		return nil, whole.errAt(toml.Key{"case"}, "write each case as a [[case]] table")
	}
	headers := caseHeaders(src)
	if len(headers) != len(doc.Case) {
		return nil, &FileError{File: file, Key: "case", Msg: fmt.Sprintf("found %d cases but %d [[case]] header lines: write each case as a [[case]] table, its header on a line of its own", len(doc.Case), len(headers))}
	}

	p := &parser{
		file:     file,
		dir:      filepath.Dir(file),
		site:     site,
		captured: map[string]int{},
	}
	suite := &Suite{File: file}
	lines := strings.SplitAfter(src, "\n")
	for i, start := range headers {
		end := len(lines)
		if i+1 < len(headers) {
			end = headers[i+1] - 1
		}
		// Blank lines in front keep toml's line numbers those of the file.
		region := strings.Repeat("\n", start-1) + strings.Join(lines[start-1:end], "")
		c, err := p.parseCase(region, start, i)
		if err != nil {
			return nil, err
		}
		suite.Cases = append(suite.Cases, c)
	}
	plan(suite.Cases)
	return suite, nil
}

// pathErr is what went wrong with a file, without its path, which the
// message names already.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// syntaxError turns an error from the TOML parser into a *FileError.
func syntaxError(file string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &FileError{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	return &FileError{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Msg: strings.TrimSuffix(pe.Message, ".")}
}

// decoder reads one TOML document (the file, or one case's region of it)
// and locates its keys.
type decoder struct {
	file string
	md   toml.MetaData
	all  toml.Primitive
}

// children lists the names of the keys directly under prefix, in file
// order (a table defined with dotted keys shows only through its leaves).
func (d *decoder) children(prefix toml.Key) []string {
	var names []string
	for _, k := range d.md.Keys() {
		if len(k) > len(prefix) && slices.Equal(k[:len(prefix)], prefix) && !slices.Contains(names, k[len(prefix)]) {
			names = append(names, k[len(prefix)])
		}
	}
	return names
}

// primitive returns the undecoded value at key.
func (d *decoder) primitive(key toml.Key) (toml.Primitive, bool) {
	cur := d.all
	for i, k := range key {
		var m map[string]toml.Primitive
		if i > 0 && d.md.Type(key[:i]...) == "ArrayHash" {
			// In a case's region the array holds that one case.
			var arr []toml.Primitive
			if d.md.PrimitiveDecode(cur, &arr) != nil || len(arr) != 1 || d.md.PrimitiveDecode(arr[0], &m) != nil {
				return toml.Primitive{}, false
			}
		} else if d.md.PrimitiveDecode(cur, &m) != nil {
			return toml.Primitive{}, false
		}
		next, ok := m[k]
		if !ok {
			return toml.Primitive{}, false
		}
		cur = next
	}
	return cur, true
}

// errLocate is what locator answers, so that toml reports where it was.
var errLocate = errors.New("locate")

// locator fails to decode anything: toml then reports the position of the
// key being decoded, which its metadata does not expose otherwise.
type locator struct{}

func (*locator) UnmarshalTOML(any) error { return errLocate }

// line returns the line of key, or of the nearest enclosing key whose line
// is known (a table made by dotted keys has none of its own).
func (d *decoder) line(key toml.Key) int {
	for n := len(key); n > 0; n-- {
		prim, ok := d.primitive(key[:n])
		if !ok {
			continue
		}
		var pe toml.ParseError
		if errors.As(d.md.PrimitiveDecode(prim, &locator{}), &pe) && pe.Position.Line > 0 {
			return pe.Position.Line
		}
	}
	return 0
}

func (d *decoder) errAt(key toml.Key, format string, args ...any) error {
	return &FileError{File: d.file, Line: d.line(key), Key: key.String(), Msg: fmt.Sprintf(format, args...)}
}

// decode decodes the value at key into dst, whose UnmarshalTOML checks
// its type; toml reports such errors with the key's position.
func (d *decoder) decode(key toml.Key, dst any) error {
	prim, ok := d.primitive(key)
	if !ok {
		return d.errAt(key, "cannot be read")
	}
	err := d.md.PrimitiveDecode(prim, dst)
	if err == nil {
		return nil
	}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line := pe.Position.Line
		if line == 0 {
			line = d.line(key)
		}
		return &FileError{File: d.file, Line: line, Key: key.String(), Msg: pe.Message}
	}
	return &FileError{File: d.file, Line: d.line(key), Key: key.String(), Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// parser reads the cases of one file in order, knowing which variables
// the cases before have captured.
type parser struct {
	file     string
	dir      string
	site     *Site
	captured map[string]int // variable -> index of the last case capturing it
}

// caseKeys and expectKeys are the keys a case and its expect table take.
var (
	caseKeys   = []string{"name", "function", "path", "method", "query", "headers", "body", "json", "wait", "serial", "timeout", "expect", "capture"}
	expectKeys = []string{"status", "body", "body_contains", "body_matches", "json", "headers", "header_present", "max_duration", "state", "attempts", "log_contains", "log_matches"}
	// finalStates are the values expect.state takes.
	finalStates = []string{"succeeded", "failed", "timed_out", "interrupted"}
)

// parseCase reads the case whose [[case]] header is at line start, from its
// region of the file.
func (p *parser) parseCase(region string, start, index int) (*Case, error) {
	var all toml.Primitive
	md, err := toml.Decode(region, &all)
	if err != nil {
		return nil, syntaxError(p.file, err)
	}
	d := &decoder{file: p.file, md: md, all: all}
	c := &Case{File: p.file, Line: start, Index: index, provider: map[string]int{}}
	cp := &caseParser{parser: p, d: d, c: c}
	base := toml.Key{"case"}
	for _, k := range d.children(base) {
		key := append(base[:1:1], k)
		if !slices.Contains(caseKeys, k) {
			return nil, d.errAt(key, "unknown key%s", suggest(k, caseKeys))
		}
		if err := cp.field(key); err != nil {
			return nil, err
		}
	}
	if err := cp.finish(); err != nil {
		return nil, err
	}
	return c, nil
}

// caseParser reads one case.
type caseParser struct {
	*parser
	d *decoder
	c *Case

	hasStatus, hasState bool
	methodSet           bool
	stateKey, attKey    toml.Key
	logKey              toml.Key
}

// use notes the variables t refers to, which cases before must capture.
func (cp *caseParser) use(key toml.Key, refs []string) error {
	for _, r := range refs {
		i, ok := cp.captured[r]
		if !ok {
			return cp.d.errAt(key, "${%s} is not captured by any case before this one (capture it in a [case.capture] table)", r)
		}
		if !slices.Contains(cp.c.uses, r) {
			cp.c.uses = append(cp.c.uses, r)
			cp.c.provider[r] = i
		}
	}
	return nil
}

// text decodes a string that may use variables.
func (cp *caseParser) text(key toml.Key) (text, error) {
	var s tomltype.String
	if err := cp.d.decode(key, &s); err != nil {
		return text{}, err
	}
	t, err := parseText(string(s))
	if err != nil {
		return text{}, cp.d.errAt(key, "%v", err)
	}
	return t, cp.use(key, t.refs())
}

// texts decodes a string or an array of strings that may use variables.
func (cp *caseParser) texts(key toml.Key) ([]text, error) {
	var ss tStrings
	if err := cp.d.decode(key, &ss); err != nil {
		return nil, err
	}
	out := make([]text, 0, len(ss))
	for _, s := range ss {
		t, err := parseText(s)
		if err != nil {
			return nil, cp.d.errAt(key, "%v", err)
		}
		if err := cp.use(key, t.refs()); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// textTable decodes a table of strings that may use variables.
func (cp *caseParser) textTable(key toml.Key) (map[string]text, error) {
	var m tStringTable
	if err := cp.d.decode(key, &m); err != nil {
		return nil, err
	}
	out := make(map[string]text, len(m))
	for _, k := range sortedKeys(m) {
		t, err := parseText(m[k])
		if err != nil {
			return nil, cp.d.errAt(append(key[:len(key):len(key)], k), "%v", err)
		}
		if err := cp.use(append(key[:len(key):len(key)], k), t.refs()); err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, nil
}

// regexps decodes a regular expression or an array of them.
func (cp *caseParser) regexps(key toml.Key) ([]*regexp.Regexp, error) {
	var ss tStrings
	if err := cp.d.decode(key, &ss); err != nil {
		return nil, err
	}
	var out []*regexp.Regexp
	for _, s := range ss {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, cp.d.errAt(key, "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		out = append(out, re)
	}
	return out, nil
}

// tree decodes any value as a JSON tree.
func (cp *caseParser) tree(key toml.Key) (any, error) {
	var v tValue
	if err := cp.d.decode(key, &v); err != nil {
		return nil, err
	}
	t, err := fromTOML(v.v)
	if err != nil {
		return nil, cp.d.errAt(key, "%v", err)
	}
	return t, cp.use(key, treeRefs(t))
}

func (cp *caseParser) field(key toml.Key) error {
	c, d := cp.c, cp.d
	var err error
	switch key[1] {
	case "name":
		var s tomltype.String
		err = d.decode(key, &s)
		c.Name = string(s)
	case "function":
		var s tomltype.String
		if err = d.decode(key, &s); err == nil {
			c.Function = string(s)
			err = cp.checkFunction(key)
		}
	case "path":
		// A captured Location (path = "${where}") is checked when it is
		// filled in.
		if c.Path, err = cp.text(key); err == nil && !strings.HasPrefix(c.Path.String(), "/") && c.Path.parts[0].ref == "" {
			err = d.errAt(key, "must start with / (the URL path on the server, e.g. /api/items)")
		}
	case "method":
		var s tomltype.String
		if err = d.decode(key, &s); err == nil {
			c.Method = strings.ToUpper(string(s))
			cp.methodSet = true
			if !validMethod(c.Method) {
				err = d.errAt(key, "invalid HTTP method %q", string(s))
			}
		}
	case "query":
		var v tValue
		if err = d.decode(key, &v); err != nil {
			return err
		}
		if _, ok := v.v.(map[string]any); ok {
			c.queryTable, err = cp.textTable(key)
		} else {
			c.query, err = cp.text(key)
		}
	case "headers":
		c.headers, err = cp.textTable(key)
	case "body":
		err = cp.bodyField(key)
	case "json":
		if c.body.set {
			return d.errAt(key, "a case has body or json, not both")
		}
		c.body.set = true
		c.body.json, err = cp.tree(key)
	case "wait":
		var b tBool
		err = d.decode(key, &b)
		c.Wait = bool(b)
	case "serial":
		var b tBool
		err = d.decode(key, &b)
		c.Serial = bool(b)
	case "timeout":
		var t tDuration
		err = d.decode(key, &t)
		c.Timeout = time.Duration(t)
	case "expect":
		err = cp.expect(key)
	case "capture":
		err = cp.capture(key)
	}
	return err
}

func (cp *caseParser) bodyField(key toml.Key) error {
	c, d := cp.c, cp.d
	if c.body.set {
		return d.errAt(key, "a case has body or json, not both")
	}
	c.body.set = true
	var s tomltype.String
	if err := d.decode(key, &s); err != nil {
		return err
	}
	str := string(s)
	switch {
	case strings.HasPrefix(str, "@@"):
		t := literal(str[1:])
		c.body.text = &t
	case strings.HasPrefix(str, "@"):
		name := str[1:]
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(cp.dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return d.errAt(key, "cannot read the body file %s: %s (paths are relative to the smoke file; write @@ for a body that starts with @)", name, pathErr(err))
		}
		c.body.raw = b
	default:
		t, err := parseText(str)
		if err != nil {
			return d.errAt(key, "%v", err)
		}
		if err := cp.use(key, t.refs()); err != nil {
			return err
		}
		c.body.text = &t
	}
	return nil
}

// checkFunction checks that the site has the function.
func (cp *caseParser) checkFunction(key toml.Key) error {
	if cp.site == nil {
		return nil
	}
	name := cp.c.Function
	var names []string
	for _, fn := range cp.site.Functions {
		if fn.Name == name {
			cp.c.scheduled = fn.Kind == discover.KindScheduled
			if len(fn.Paths) > 0 {
				return cp.d.errAt(key, "function %s answers only on its custom paths (%s): use path = %q", name, strings.Join(fn.Paths, ", "), fn.Paths[0])
			}
			return nil
		}
		names = append(names, fn.Name)
	}
	if len(names) == 0 {
		return cp.d.errAt(key, "no function %q: the site has no functions", name)
	}
	msg := fmt.Sprintf("no function %q", name)
	if s := suggest(name, names); s != "" {
		msg += ": " + strings.TrimSuffix(strings.TrimPrefix(s, " ("), ")")
	}
	return cp.d.errAt(key, "%s (the site has: %s)", msg, strings.Join(names, ", "))
}

func (cp *caseParser) kind() (discover.Kind, bool) {
	if cp.site == nil || cp.c.Function == "" {
		return "", false
	}
	for _, fn := range cp.site.Functions {
		if fn.Name == cp.c.Function {
			return fn.Kind, true
		}
	}
	return "", false
}

func (cp *caseParser) expect(key toml.Key) error {
	d := cp.d
	var v tValue
	if err := d.decode(key, &v); err != nil {
		return err
	}
	if _, ok := v.v.(map[string]any); !ok {
		return d.errAt(key, "expected a table ([case.expect]), got %s", tomltype.Name(v.v))
	}
	for _, k := range d.children(key) {
		ek := append(key[:2:2], k)
		if !slices.Contains(expectKeys, k) {
			return d.errAt(ek, "unknown key%s", suggest(k, expectKeys))
		}
		ch, err := cp.check(ek)
		if err != nil {
			return err
		}
		cp.c.checks = append(cp.c.checks, ch...)
	}
	return nil
}

// check reads one expectation.
func (cp *caseParser) check(key toml.Key) ([]check, error) {
	d := cp.d
	switch key[2] {
	case "status":
		var n tInt
		if err := d.decode(key, &n); err != nil {
			return nil, err
		}
		if n < 100 || n > 599 {
			return nil, d.errAt(key, "%d is not an HTTP status", n)
		}
		cp.hasStatus = true
		return []check{statusCheck{want: int(n)}}, nil
	case "body":
		t, err := cp.text(key)
		return []check{bodyEquals{want: t}}, err
	case "body_contains":
		ts, err := cp.texts(key)
		var out []check
		for _, t := range ts {
			out = append(out, bodyContains{want: t})
		}
		return out, err
	case "body_matches":
		res, err := cp.regexps(key)
		var out []check
		for _, re := range res {
			out = append(out, bodyMatches{re: re})
		}
		return out, err
	case "json":
		var v tValue
		if err := d.decode(key, &v); err != nil {
			return nil, err
		}
		m, ok := v.v.(map[string]any)
		if !ok {
			return nil, d.errAt(key, `expected a table of JSON paths and values, e.g. json = { "user.name" = "Ada" }`)
		}
		var out []check
		for _, path := range sortedKeys(m) {
			t, err := cp.tree(append(key[:3:3], path))
			if err != nil {
				return nil, err
			}
			out = append(out, jsonCheck{path: path, want: t})
		}
		return out, nil
	case "headers":
		m, err := cp.textTable(key)
		var out []check
		for _, name := range sortedKeys(m) {
			out = append(out, headerEquals{name: http.CanonicalHeaderKey(name), want: m[name]})
		}
		return out, err
	case "header_present":
		var ss tStrings
		if err := d.decode(key, &ss); err != nil {
			return nil, err
		}
		var out []check
		for _, s := range ss {
			out = append(out, headerPresent{name: http.CanonicalHeaderKey(s)})
		}
		return out, nil
	case "max_duration":
		var t tDuration
		if err := d.decode(key, &t); err != nil {
			return nil, err
		}
		return []check{maxDuration{limit: time.Duration(t)}}, nil
	case "state":
		var s tomltype.String
		if err := d.decode(key, &s); err != nil {
			return nil, err
		}
		if !slices.Contains(finalStates, string(s)) {
			return nil, d.errAt(key, "%q is not a final state: use %s", string(s), strings.Join(finalStates, ", "))
		}
		cp.hasState, cp.stateKey = true, key
		return []check{stateCheck{want: string(s)}}, nil
	case "attempts":
		var n tInt
		if err := d.decode(key, &n); err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, d.errAt(key, "must be 1 or more")
		}
		cp.attKey = key
		return []check{attemptsCheck{want: int(n)}}, nil
	case "log_contains":
		cp.logKey = key
		ts, err := cp.texts(key)
		var out []check
		for _, t := range ts {
			out = append(out, logContains{want: t})
		}
		return out, err
	case "log_matches":
		cp.logKey = key
		res, err := cp.regexps(key)
		var out []check
		for _, re := range res {
			out = append(out, logMatches{re: re})
		}
		return out, err
	}
	return nil, nil
}

func (cp *caseParser) capture(key toml.Key) error {
	d := cp.d
	var v tValue
	if err := d.decode(key, &v); err != nil {
		return err
	}
	if _, ok := v.v.(map[string]any); !ok {
		return d.errAt(key, "expected a table ([case.capture]), got %s", tomltype.Name(v.v))
	}
	for _, name := range d.children(key) {
		ck := append(key[:2:2], name)
		if !varName.MatchString(name) {
			return d.errAt(ck, "invalid variable name: use letters, digits and _")
		}
		var src tStringTable
		if err := d.decode(ck, &src); err != nil {
			return err
		}
		c := capture{name: name}
		for _, k := range sortedKeys(src) {
			switch k {
			case "json":
				p := src[k]
				c.json = &p
			case "header":
				c.header = http.CanonicalHeaderKey(src[k])
			default:
				return d.errAt(append(ck[:3:3], k), "unknown key%s (a capture takes json = \"path\" or header = \"Name\")", suggest(k, []string{"json", "header"}))
			}
		}
		if (c.json == nil) == (c.header == "") {
			return d.errAt(ck, `write { json = "path.to.value" } or { header = "Name" }`)
		}
		cp.c.captures = append(cp.c.captures, c)
	}
	return nil
}

// finish checks what needs the whole case and fills in the defaults.
func (cp *caseParser) finish() error {
	c, d := cp.c, cp.d
	head := toml.Key{"case"}
	switch {
	case c.Function == "" && len(c.Path.parts) == 0:
		return &FileError{File: c.File, Line: c.Line, Key: "case", Msg: "needs function = \"NAME\" or path = \"/url/path\""}
	case c.Function != "" && len(c.Path.parts) > 0:
		return d.errAt(append(head, "path"), "a case has function or path, not both")
	}
	if c.Wait {
		if k, ok := cp.kind(); ok && k != discover.KindBackground {
			return d.errAt(append(head, "wait"), "function %s is not a background function (wait follows a 202 until the invocation ends)", c.Function)
		}
	} else {
		if cp.hasState {
			return d.errAt(cp.stateKey, "needs wait = true in the case")
		}
		if cp.attKey != nil {
			return d.errAt(cp.attKey, "needs wait = true in the case")
		}
		if k, ok := cp.kind(); ok && k == discover.KindBackground && cp.logKey != nil {
			return d.errAt(cp.logKey, "needs wait = true in the case: a background function's log is complete once it ends")
		}
	}
	if !cp.methodSet {
		c.Method = http.MethodGet
		if c.body.set {
			c.Method = http.MethodPost
		}
	}
	if !cp.hasStatus && !c.Wait {
		c.checks = append([]check{statusOK{}}, c.checks...)
	}
	if c.Wait && !cp.hasState {
		c.checks = append(c.checks, stateCheck{want: "succeeded", implied: true})
	}
	if c.Name == "" {
		c.Name = c.Method + " " + c.Target()
		if q := c.query.String(); q != "" {
			c.Name += "?" + q
		}
	}
	for _, cap := range c.captures {
		cp.captured[cap.name] = c.Index
	}
	return nil
}

// plan works out the order cases must keep. A case that uses or captures a
// variable starts after the case before it that used or captured it, so a
// POST, the GET of what it made and its DELETE run in file order. A serial
// case runs alone: after every case before it, before every case after it.
func plan(cases []*Case) {
	last := map[string]int{}
	barrier := -1
	var since []int
	for i, c := range cases {
		deps := map[int]bool{}
		if c.Serial {
			for _, j := range since {
				deps[j] = true
			}
		}
		if barrier >= 0 {
			deps[barrier] = true
		}
		vars := slices.Clone(c.uses)
		for _, cap := range c.captures {
			vars = append(vars, cap.name)
		}
		for _, v := range vars {
			if j, ok := last[v]; ok {
				deps[j] = true
			}
			last[v] = i
		}
		c.deps = slices.Sorted(maps.Keys(deps))
		if c.Serial {
			barrier, since = i, nil
		} else {
			since = append(since, i)
		}
	}
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// suggest returns ` (did you mean "x"?)` for the nearest of known, when one
// is near enough.
func suggest(got string, known []string) string {
	if best := textdist.Nearest(got, known, false); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
