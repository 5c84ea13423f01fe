package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/bgfn-dev/bgfn/internal/tomltype"
)

// fileConfig is what bgfn takes from netlify.toml, before paths are
// resolved and sources are merged.
type fileConfig struct {
	base               string // [build] base, or [context.X] base
	buildFunctions     string // [build] functions
	contextFunctions   string // [context.X] functions when it is a string
	devFunctions       string // [dev] functions
	functionsDirectory string // [functions] directory

	port, functionsPort tomlPort

	envFiles    []string // [dev] envFiles, highest precedence first
	envFilesSet bool

	buildEnv   map[string]string
	contextEnv map[string]string

	functions FunctionsConfig
	warnings  []string
}

// rawConfig is the typed part of netlify.toml. Leaf values use the tomlX
// types so that a wrong type is reported with the key's position. Tables
// with free-form keys are toml.Primitive, decoded with decodeTable, because
// toml silently ignores a non-table value decoded into a map.
type rawConfig struct {
	Build     rawBuild       `toml:"build"`
	Dev       rawDev         `toml:"dev"`
	Functions toml.Primitive `toml:"functions"` // map[string]toml.Primitive
	Context   toml.Primitive `toml:"context"`   // map[string]rawContext
}

type rawBuild struct {
	Base        tomltype.String `toml:"base"`
	Functions   tomltype.String `toml:"functions"`
	Environment toml.Primitive  `toml:"environment"` // map[string]envValue
}

type rawDev struct {
	Port          tomlPort        `toml:"port"`
	FunctionsPort tomlPort        `toml:"functionsPort"`
	Functions     tomltype.String `toml:"functions"`
	EnvFiles      tomlStrings     `toml:"envFiles"`
}

type rawContext struct {
	Base tomltype.String `toml:"base"`
	// Functions is a directory when it is a string and a context-specific
	// [functions] table when it is a table, as in @netlify/config.
	Functions   toml.Primitive `toml:"functions"`
	Environment toml.Primitive `toml:"environment"` // map[string]envValue
}

// rawFunctionSettings is one [functions."pattern"] table.
type rawFunctionSettings struct {
	NodeBundler         tomltype.String    `toml:"node_bundler"`
	ExternalNodeModules tomlStrings        `toml:"external_node_modules"`
	IncludedFiles       tomlStrings        `toml:"included_files"`
	Schedule            tomltype.String    `toml:"schedule"`
	Background          tomlBool           `toml:"background"`
	Directory           forbiddenDirectory `toml:"directory"`
}

func (r rawFunctionSettings) settings() FunctionSettings {
	return FunctionSettings{
		NodeBundler:         string(r.NodeBundler),
		ExternalNodeModules: r.ExternalNodeModules,
		IncludedFiles:       r.IncludedFiles,
		Schedule:            string(r.Schedule),
		Background:          r.Background.ptr(),
	}
}

// ignoredFunctionKeys are [functions] keys Netlify knows that do not matter
// when running functions locally.
var ignoredFunctionKeys = []string{"ignored_node_modules", "memory", "region", "vcpu", "deno_import_map"}

// knownKeys are Netlify keys that bgfn reads no further; they and everything
// under them are accepted without a warning. "*" matches one key segment.
var knownKeys = [][]string{
	{"redirects"}, {"headers"}, {"plugins"}, {"edge_functions"}, {"images"},
	{"template"}, {"integrations"}, {"Settings"},
	{"build", "command"}, {"build", "publish"}, {"build", "ignore"},
	{"build", "processing"}, {"build", "edge_functions"},
	{"dev", "command"}, {"dev", "targetPort"}, {"dev", "framework"},
	{"dev", "autoLaunch"}, {"dev", "publish"}, {"dev", "jwtSecret"},
	{"dev", "jwtRolePath"}, {"dev", "https"}, {"dev", "staticServerPort"},
	{"dev", "live"}, {"dev", "skipWaitPort"}, {"dev", "pollingStrategies"},
	{"context", "*", "command"}, {"context", "*", "publish"},
	{"context", "*", "ignore"}, {"context", "*", "processing"},
	{"context", "*", "edge_functions"}, {"context", "*", "plugins"},
	{"context", "*", "functions"},
}

// isKnownKey reports whether k is, or is under, one of knownKeys or an
// ignoredFunctionKeys key of [functions] or of a pattern table.
func isKnownKey(k toml.Key) bool {
	if len(k) >= 2 && k[0] == "functions" &&
		(slices.Contains(ignoredFunctionKeys, k[1]) || len(k) >= 3 && slices.Contains(ignoredFunctionKeys, k[2])) {
		return true
	}
	for _, known := range knownKeys {
		if len(k) < len(known) {
			continue
		}
		ok := true
		for i, seg := range known {
			if seg != "*" && seg != k[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// decodeNetlifyTOML reads netlify.toml. file is the name used in errors and
// warnings; ctxName selects the [context.X] table that applies.
func decodeNetlifyTOML(file string, data []byte, ctxName string) (*fileConfig, error) {
	// Parse first and decode second, so that syntax errors (toml.ParseError
	// from the parser) and type errors (from decoding) can be told apart.
	var all toml.Primitive
	md, err := toml.Decode(string(data), &all)
	if err != nil {
		return nil, syntaxError(file, err)
	}
	if err := checkKeyCase(file, &md); err != nil {
		return nil, err
	}
	var raw rawConfig
	if err := md.PrimitiveDecode(all, &raw); err != nil {
		return nil, typeError(file, err, "")
	}

	fc := &fileConfig{
		base:           string(raw.Build.Base),
		buildFunctions: string(raw.Build.Functions),
		devFunctions:   string(raw.Dev.Functions),
		port:           raw.Dev.Port,
		functionsPort:  raw.Dev.FunctionsPort,
		envFiles:       raw.Dev.EnvFiles,
		envFilesSet:    md.IsDefined("dev", "envFiles"),
	}
	if fc.buildEnv, err = decodeEnv(&md, raw.Build.Environment, "build", "environment"); err != nil {
		return nil, typeError(file, err, "")
	}

	// Every context is decoded, so that all of them are type-checked and
	// none of their keys is reported as unknown.
	var contexts map[string]rawContext
	if err := decodeTable(&md, raw.Context, &contexts, "context"); err != nil {
		return nil, typeError(file, err, "")
	}
	for _, name := range slices.Sorted(maps.Keys(contexts)) {
		env, err := decodeEnv(&md, contexts[name].Environment, "context", name, "environment")
		if err != nil {
			return nil, typeError(file, err, "")
		}
		if name == ctxName {
			fc.contextEnv = env
		}
	}

	if c, ok := contexts[ctxName]; ok {
		if string(c.Base) != "" {
			fc.base = string(c.Base)
		}
		if md.IsDefined("context", ctxName, "functions") {
			var v any
			if err := md.PrimitiveDecode(c.Functions, &v); err != nil {
				return nil, typeError(file, err, "")
			}
			if _, isTable := v.(map[string]any); isTable {
				fc.warnings = append(fc.warnings, fmt.Sprintf("%s: %s: per-context [functions] settings are not supported (ignored)",
					file, quoteKey(toml.Key{"context", ctxName, "functions"})))
			} else {
				var dir tomltype.String
				if err := md.PrimitiveDecode(c.Functions, &dir); err != nil {
					return nil, typeError(file, err, "")
				}
				fc.contextFunctions = string(dir)
			}
		}
	}

	var functions map[string]toml.Primitive
	if err := decodeTable(&md, raw.Functions, &functions, "functions"); err != nil {
		return nil, typeError(file, err, "")
	}
	// unknown collects keys to warn about that the decoder marked as decoded
	// because they sit in a map.
	unknown := map[string]bool{}
	if err := decodeFunctions(file, &md, functions, fc, unknown); err != nil {
		return nil, err
	}
	fc.warnings = append(unknownKeyWarnings(file, &md, unknown), fc.warnings...)
	return fc, nil
}

// decodeTable decodes prim, the value of key, into the map dst. It is an
// error for key to be set to anything but a table; an unset key leaves dst
// nil.
func decodeTable(md *toml.MetaData, prim toml.Primitive, dst any, key ...string) error {
	if !md.IsDefined(key...) {
		return nil
	}
	var v any
	if err := md.PrimitiveDecode(prim, &v); err != nil {
		return err
	}
	if _, ok := v.(map[string]any); !ok {
		// Decode again into a type that always fails, for toml to report
		// the error with the key's position.
		return md.PrimitiveDecode(prim, new(notTable))
	}
	return md.PrimitiveDecode(prim, dst)
}

// decodeEnv decodes an environment table.
func decodeEnv(md *toml.MetaData, prim toml.Primitive, key ...string) (map[string]string, error) {
	var env map[string]envValue
	if err := decodeTable(md, prim, &env, key...); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = string(v)
	}
	return out, nil
}

// decodeFunctions splits [functions] into its top-level settings and its
// pattern tables, in file order.
func decodeFunctions(file string, md *toml.MetaData, table map[string]toml.Primitive, fc *fileConfig, unknown map[string]bool) error {
	// Keys() is in file order; a pattern defined with dotted keys only
	// appears through its children, so take the second segment of each.
	var names []string
	for _, k := range md.Keys() {
		if len(k) >= 2 && k[0] == "functions" && !slices.Contains(names, k[1]) {
			names = append(names, k[1])
		}
	}

	d := &fc.functions.Defaults
	for _, name := range names {
		prim := table[name]
		var dst any
		switch name {
		case "directory":
			dst = (*tomltype.String)(&fc.functionsDirectory)
		case "node_bundler":
			dst = (*tomltype.String)(&d.NodeBundler)
		case "schedule":
			dst = (*tomltype.String)(&d.Schedule)
		case "external_node_modules":
			dst = (*tomlStrings)(&d.ExternalNodeModules)
		case "included_files":
			dst = (*tomlStrings)(&d.IncludedFiles)
		case "background":
			var b tomlBool
			if err := md.PrimitiveDecode(prim, &b); err != nil {
				return typeError(file, err, "")
			}
			d.Background = b.ptr()
			continue
		}
		if dst != nil {
			if err := md.PrimitiveDecode(prim, dst); err != nil {
				return typeError(file, err, "")
			}
			continue
		}
		if slices.Contains(ignoredFunctionKeys, name) {
			continue
		}

		// Any other key is a pattern when its value is a table. Decoding
		// into an empty interface does not mark keys as decoded, so the
		// unknown keys of the table are still reported afterwards.
		var v any
		if err := md.PrimitiveDecode(prim, &v); err != nil {
			return typeError(file, err, "")
		}
		if _, isTable := v.(map[string]any); !isTable {
			unknown[toml.Key{"functions", name}.String()] = true
			continue
		}
		var rs rawFunctionSettings
		if err := md.PrimitiveDecode(prim, &rs); err != nil {
			return typeError(file, err, name)
		}
		fc.functions.Patterns = append(fc.functions.Patterns, PatternSettings{Pattern: name, FunctionSettings: rs.settings()})
		switch {
		case strings.HasPrefix(name, "!"):
			fc.warnings = append(fc.warnings, fmt.Sprintf("%s: %s: negated patterns are not supported (never matches)",
				file, quoteKey(toml.Key{"functions", name})))
		case !validPattern(name):
			fc.warnings = append(fc.warnings, fmt.Sprintf("%s: %s: malformed pattern (never matches)",
				file, quoteKey(toml.Key{"functions", name})))
		}
	}
	return nil
}

// unknownKeyWarnings returns one warning per unknown key, in file order,
// leaving out keys under a key that is already reported.
func unknownKeyWarnings(file string, md *toml.MetaData, unknown map[string]bool) []string {
	for _, k := range md.Undecoded() {
		if !isKnownKey(k) {
			unknown[k.String()] = true
		}
	}
	var warnings []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		s := k.String()
		if !unknown[s] || seen[s] {
			continue
		}
		seen[s] = true
		reported := false
		for i := 1; i < len(k); i++ {
			if unknown[k[:i].String()] {
				reported = true
				break
			}
		}
		if !reported {
			warnings = append(warnings, fmt.Sprintf("%s: unknown key %s (ignored)", file, quoteKey(k)))
		}
	}
	return warnings
}

// quoteKey shows a TOML key in quotes, using single quotes when the key
// itself has double-quoted parts: "build.foo", 'functions."api-*".foo'.
func quoteKey(k toml.Key) string {
	s := k.String()
	if strings.Contains(s, `"`) {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// secretKeyRE matches toml's quotations of the input, which could be part
// of a secret.
var secretKeyRE = regexp.MustCompile(`"[^"]*"|'[^']*'`)

// syntaxError turns an error from the TOML parser into a *ParseError.
func syntaxError(file string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &ParseError{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	msg := strings.TrimSuffix(pe.Message, ".")
	// The parser quotes the text it choked on; in an environment table that
	// text may be a secret (KEY = s3cret without quotes), so hide it.
	if lastKey := strings.Split(pe.LastKey, "."); slices.Contains(lastKey, "environment") {
		msg = secretKeyRE.ReplaceAllString(msg, `"…"`)
	}
	return &ParseError{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Msg: msg}
}

// plainDecodeErrRE matches the errors toml returns without a position:
// `toml: line 3 (last key "dev"): type mismatch ...`.
var plainDecodeErrRE = regexp.MustCompile(`^toml: (?:line (\d+) )?(?:\(last key ("(?:[^"\\]|\\.)*")\): )?(.*)$`)

// typeError turns an error from decoding (a value of the wrong type) into a
// *ParseError whose message starts with the key. pattern is the
// [functions."pattern"] table being decoded, if any, so that its name can
// be shown quoted as Netlify does.
func typeError(file string, err error, pattern string) error {
	var key, msg string
	var line, col int
	var pe toml.ParseError
	if errors.As(err, &pe) {
		key, msg, line, col = pe.LastKey, pe.Message, pe.Position.Line, pe.Position.Col
	} else if m := plainDecodeErrRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			key, _ = strconv.Unquote(m[2])
		}
		msg = m[3]
		if strings.Contains(msg, "expected table") || strings.Contains(msg, "destination has type map") {
			msg = "expected a table"
		}
	} else {
		msg = err.Error()
	}
	if pattern != "" && key != "" {
		key = fmt.Sprintf("functions.%q.%s", pattern, key[strings.LastIndex(key, ".")+1:])
	}
	if key != "" {
		msg = key + ": " + msg
	}
	return &ParseError{File: file, Line: line, Col: col, Msg: msg}
}

// tomlStrings is an array of strings.
type tomlStrings []string

func (s *tomlStrings) UnmarshalTOML(v any) error {
	arr, ok := v.([]any)
	if !ok {
		return tomltype.Mismatch("an array of strings", v)
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		str, ok := e.(string)
		if !ok {
			return fmt.Errorf("expected an array of strings, element %d is %s", i, tomltype.Name(e))
		}
		out = append(out, str)
	}
	*s = out
	return nil
}

// tomlBool is an optional boolean.
type tomlBool struct {
	val, set bool
}

func (b *tomlBool) UnmarshalTOML(v any) error {
	val, ok := v.(bool)
	if !ok {
		return tomltype.Mismatch("a boolean", v)
	}
	*b = tomlBool{val: val, set: true}
	return nil
}

func (b tomlBool) ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.val
	return &v
}

// tomlPort is an optional TCP port number.
type tomlPort struct {
	val int
	set bool
}

func (p *tomlPort) UnmarshalTOML(v any) error {
	n, ok := v.(int64)
	if !ok {
		return tomltype.Mismatch("an integer", v)
	}
	if n < 0 || n > 65535 {
		return errors.New("must be between 0 and 65535")
	}
	*p = tomlPort{val: int(n), set: true}
	return nil
}

// envValue is one environment variable. Netlify accepts numbers and
// booleans and passes them on as strings. Errors never show the value.
type envValue string

func (e *envValue) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*e = envValue(v)
	case int64:
		*e = envValue(strconv.FormatInt(v, 10))
	case float64:
		*e = envValue(strconv.FormatFloat(v, 'g', -1, 64))
	case bool:
		*e = envValue(strconv.FormatBool(v))
	default:
		return tomltype.Mismatch("a string", v)
	}
	return nil
}

// notTable is decoded in place of a value that should have been a table.
type notTable struct{}

func (*notTable) UnmarshalTOML(v any) error {
	return tomltype.Mismatch("a table", v)
}

// forbiddenDirectory rejects [functions."x"] directory, which Netlify only
// allows on the main [functions] table (config:validate/validations.js).
type forbiddenDirectory struct{}

func (forbiddenDirectory) UnmarshalTOML(any) error {
	return errors.New(`must be defined on the main "functions" object`)
}

// structTables are the tables toml decodes into structs, by their path
// ("*" is any one key), with the keys of each.
var structTables = []struct {
	path []string
	keys []string
}{
	{nil, tomlKeys(rawConfig{})},
	{[]string{"build"}, tomlKeys(rawBuild{})},
	{[]string{"dev"}, tomlKeys(rawDev{})},
	{[]string{"context", "*"}, tomlKeys(rawContext{})},
	{[]string{"functions", "*"}, tomlKeys(rawFunctionSettings{})},
}

// tomlKeys lists the toml tags of a struct's fields.
func tomlKeys(v any) []string {
	t := reflect.TypeOf(v)
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if k, ok := t.Field(i).Tag.Lookup("toml"); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// checkKeyCase refuses a key that differs only in case from one that bgfn
// decodes into a struct ("Functions", "[build] Base"). toml matches struct
// fields case-insensitively, so bgfn would apply a key that Netlify, whose
// keys are case-sensitive, ignores; and with both spellings in a file the
// one decoded was chosen at random. A [Functions."x"] table next to
// [functions."y"] made decoding panic (found by FuzzNetlifyTOML).
func checkKeyCase(file string, md *toml.MetaData) error {
	for _, k := range md.Keys() {
		for _, st := range structTables {
			if len(k) <= len(st.path) || !pathMatches(k[:len(st.path)], st.path) {
				continue
			}
			seg := k[len(st.path)]
			for _, want := range st.keys {
				if seg != want && strings.EqualFold(seg, want) {
					return &ParseError{File: file, Msg: fmt.Sprintf("%s: keys are case-sensitive: write %q",
						quoteKey(k[:len(st.path)+1]), want)}
				}
			}
		}
	}
	return nil
}

// pathMatches reports whether key matches path, where "*" matches any key.
func pathMatches(key, path []string) bool {
	for i, p := range path {
		if p != "*" && p != key[i] {
			return false
		}
	}
	return true
}
