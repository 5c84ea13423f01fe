// Package discover finds the functions in a functions directory, following
// Netlify's rules for names, entry files, precedence and kinds.
//
// The rules are those of zip-it-and-ship-it and netlify-cli (see
// /work/shared/reference/netlify-cli.md, sections 1, 3 and 5): only the top
// level of the directory is read; a function is a JS/TS file, a folder with a
// JS/TS entry file, or a folder with a Go main file; a folder beats a file of
// the same name; among files, .js > .mjs > .cjs > .ts > .tsx > .mts > .cts.
// Where Netlify stays silent (shadowed duplicates, config it ignores) bgfn
// returns a warning, so what works locally also works once deployed.
package discover

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/schedule"
)

// Runtime is the language a function is written in.
type Runtime string

// Runtimes.
const (
	RuntimeJS Runtime = "js"
	RuntimeTS Runtime = "ts"
	RuntimeGo Runtime = "go"
)

// Kind is how a function is invoked.
type Kind string

// Kinds.
const (
	KindSync       Kind = "sync"
	KindBackground Kind = "background"
	KindScheduled  Kind = "scheduled"
)

// Function is one discovered function.
type Function struct {
	// Name is the Netlify function name: the file name without its extension,
	// or the directory name.
	Name string
	// Runtime is js, ts or go.
	Runtime Runtime
	// Entry is the entry file, slash-separated and relative to the functions
	// directory (e.g. "hello.js", "api/index.ts", "gofn/main.go").
	Entry string
	// Dir is the function's own folder relative to the functions directory
	// when it is a directory function ("api"), else "".
	Dir string
	// Kind is sync, background or scheduled. Background wins over scheduled.
	Kind Kind
	// Schedule is the cron expression when Kind is scheduled, else "".
	Schedule string
	// Invalid is non-empty when the name breaks Netlify's naming rule; such a
	// function is listed but answers 400 with Invalid as the body.
	Invalid string
	// Paths are the custom URL paths of a v2 function (config.path), as
	// written, each starting with "/" and compiling with routes.Compile;
	// repeats are dropped. A function with paths is not served at
	// /.netlify/functions/NAME, as in Netlify.
	Paths []string
	// ExcludedPaths are the paths carved out of Paths (config.excludedPath).
	ExcludedPaths []string
	// Methods, upper-case, limit the custom paths to these HTTP methods
	// (config.method); empty means any.
	Methods []string
	// PreferStatic (config.preferStatic) lets a static file at the same
	// path win over the function.
	PreferStatic bool
	// Handlers are the methods of a v2 function whose default export is an
	// object literal of platform-event handlers (deploySucceeded,
	// formSubmitted, userSignup, fetch…), as a static read of the entry
	// file finds them; in source order.
	Handlers []string
	// ConfigError is non-empty when the function's configuration is
	// invalid, in Netlify's words: "Function NAME has a configuration error
	// on 'path': must start with '/'". Netlify fails the build; bgfn lists
	// the function and answers 500 with ConfigError as the body. It covers
	// in-source path, excludedPath and method, and a scheduled function's
	// cron expression from any source. Paths, ExcludedPaths and Methods keep
	// their valid values, so the function can still be routed to its 500.
	ConfigError string
}

// Settings are the per-function settings from netlify.toml
// ([functions."name"]) that bear on discovery.
type Settings struct {
	// Background is `background = true|false`; nil when unset. True makes the
	// function a background function. False changes nothing: as in Netlify,
	// it cannot undo a -background name or an in-source background: true.
	Background *bool
	// Schedule is `schedule = "cron"`; "" when unset. An in-source schedule
	// (config.schedule or schedule()) overrides it, as in Netlify, where the
	// in-source config is merged over netlify.toml's.
	Schedule string
}

// configError is the shape of Netlify's message for invalid configuration
// (zip-it-and-ship-it, src/runtimes/node/in_source_config/index.ts).
const configError = "Function %s has a configuration error on '%s': %s"

// InvalidName is the body of the 400 response for a function whose name
// breaks Netlify's rule; Function.Invalid holds it.
const InvalidName = "Function name should consist only of alphanumeric characters, hyphen & underscores."

// reservedName is the name zip-it-and-ship-it gives its generated entry file;
// it refuses a function with that name.
const reservedName = "___netlify-entry-point"

// backgroundSuffix marks a background function by name, whatever else says.
const backgroundSuffix = "-background"

// fileExts are the extensions of top-level function files, in Netlify's
// order of precedence when two files share a name. Netlify also lists .zip,
// but serves zipped functions only when loading prebuilt ones, so bgfn
// ignores them like any other file.
var fileExts = []string{".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts"}

// dirExts are the extensions tried for a folder's entry file, in order. For
// each, <folder>.<ext> is tried before index.<ext>.
var dirExts = []string{".js", ".ts", ".mjs", ".cjs", ".tsx", ".mts", ".cts"}

// declExts are TypeScript declaration files. Netlify does not filter them, so
// foo.d.ts becomes a function named "foo.d" that fails both the name check
// and the build; they hold no code, so bgfn skips them.
var declExts = []string{".d.ts", ".d.mts", ".d.cts"}

// Missing reports whether the functions directory itself does not exist.
// Discover returns no functions, no warnings and no error in that case, so a
// caller that wants to say so (and not treat it like an empty directory)
// asks Missing.
func Missing(fsys fs.FS) bool {
	_, err := fs.Stat(fsys, ".")
	return errors.Is(err, fs.ErrNotExist)
}

// Discover lists the functions in fsys, which is rooted at the functions
// directory (os.DirFS(dir)). settings gives each function's netlify.toml
// settings by name; it may be nil.
//
// It returns the functions sorted by name and warnings, one line each, about
// files it skipped or config Netlify would ignore, with paths relative to the
// functions directory. The error is only for failures to read; a missing
// functions directory is not one (see Missing).
func Discover(fsys fs.FS, settings func(name string) Settings) ([]Function, []string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read functions directory: %w", err)
	}

	var w warnings
	byName := map[string][]candidate{}
	for _, e := range entries {
		c, ok, err := inspect(fsys, e, &w)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			byName[c.name] = append(byName[c.name], c)
		}
	}

	var fns []Function
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		cands := byName[name]
		slices.SortFunc(cands, compareCandidates)
		win := cands[0]
		for _, lost := range cands[1:] {
			w.add(name, "%s is shadowed by %s (%s)", lost.entry, win.entry, shadowReason(win, lost))
		}
		var s Settings
		if settings != nil {
			s = settings(name)
		}
		fn, err := resolve(fsys, win, s, &w)
		if err != nil {
			return nil, nil, err
		}
		fns = append(fns, fn)
	}
	return fns, w.lines(), nil
}

// candidate is an entry that could be the function called name.
type candidate struct {
	name    string
	entry   string // the entry file
	dir     string // the function's folder, or "" for a top-level file
	runtime Runtime
}

// inspect turns one top-level entry into a candidate, if it is one.
func inspect(fsys fs.FS, e fs.DirEntry, w *warnings) (candidate, bool, error) {
	name := e.Name()
	// Dotfiles are editor, OS and tool droppings (.DS_Store, .#foo.js lock
	// files, .eslintrc.js) and dot-folders are caches. Netlify would turn
	// .eslintrc.js into a function named ".eslintrc" that fails the name
	// check, so bgfn skips them silently instead.
	if strings.HasPrefix(name, ".") || name == "node_modules" {
		return candidate{}, false, nil
	}

	if e.IsDir() {
		c, ok, err := inspectDir(fsys, name, w)
		if ok && c.name != name {
			w.add(c.name, "folder %s/ gives the function name %s: Netlify drops the part of a folder name after its last dot", name, c.name)
		}
		return c, ok, err
	}

	for _, ext := range declExts {
		if strings.HasSuffix(name, ext) {
			return candidate{}, false, nil
		}
	}
	ext := path.Ext(name)
	if slices.Contains(fileExts, ext) {
		return candidate{name: strings.TrimSuffix(name, ext), entry: name, runtime: runtimeOf(ext)}, true, nil
	}

	// Netlify looks at entries with lstat, so a symbolic link to a folder is
	// not a folder to it and the function inside is never found. Say so
	// when the folder holds one.
	if e.Type()&fs.ModeSymlink != 0 {
		if info, err := fs.Stat(fsys, name); err == nil && info.IsDir() {
			if c, ok, _ := inspectDir(fsys, name, &warnings{}); ok {
				w.add(c.name, "%s is a symbolic link to a folder, which Netlify does not follow, so %s is not a function", name, c.entry)
			}
		}
	}
	return candidate{}, false, nil
}

// inspectDir finds the entry file of the folder dir. As in zip-it-and-ship-it,
// JavaScript is tried before Go, so a folder with both index.js and main.go
// is a JavaScript function.
func inspectDir(fsys fs.FS, dir string, w *warnings) (candidate, bool, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return candidate{}, false, nil // removed since the directory was read
	}
	if err != nil {
		return candidate{}, false, fmt.Errorf("read folder %s: %w", dir, err)
	}
	kinds := map[string]fs.FileMode{}
	for _, e := range entries {
		kinds[e.Name()] = e.Type()
	}
	// isFile follows symbolic links, like the stat Netlify uses here.
	isFile := func(name string) bool {
		mode, ok := kinds[name]
		if !ok {
			return false
		}
		if mode&fs.ModeSymlink != 0 {
			info, err := fs.Stat(fsys, path.Join(dir, name))
			return err == nil && info.Mode().IsRegular()
		}
		return mode.IsRegular()
	}

	// The name drops the folder's "extension", as Node's
	// path.basename(dir, path.extname(dir)) does in zip-it-and-ship-it; the
	// entry files are still looked up by the full folder name.
	name := strings.TrimSuffix(dir, path.Ext(dir))

	var goMain string
	for _, f := range []string{dir + ".go", "main.go"} {
		if isFile(f) {
			goMain = f
			break
		}
	}
	for _, ext := range dirExts {
		for _, f := range []string{dir + ext, "index" + ext} {
			if !isFile(f) {
				continue
			}
			c := candidate{name: name, entry: path.Join(dir, f), dir: dir, runtime: runtimeOf(ext)}
			if goMain != "" {
				w.add(name, "%s is ignored: %s makes %s/ a JavaScript function (Netlify looks for JavaScript before Go)",
					path.Join(dir, goMain), c.entry, dir)
			}
			return c, true, nil
		}
	}
	if goMain != "" {
		return candidate{name: name, entry: path.Join(dir, goMain), dir: dir, runtime: RuntimeGo}, true, nil
	}
	return candidate{}, false, nil
}

// compareCandidates orders candidates for one name, the winner first: a
// folder beats a file; a Go folder beats a JavaScript one (Netlify registers
// Go functions first); a folder named exactly like the function beats one
// whose name had a dot; files go by extension.
func compareCandidates(a, b candidate) int {
	if c := cmp.Compare(isFileRank(a), isFileRank(b)); c != 0 {
		return c
	}
	if a.dir == "" {
		return cmp.Compare(slices.Index(fileExts, path.Ext(a.entry)), slices.Index(fileExts, path.Ext(b.entry)))
	}
	if c := cmp.Compare(goRank(a), goRank(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(exactRank(a), exactRank(b)); c != 0 {
		return c
	}
	return strings.Compare(a.entry, b.entry)
}

func isFileRank(c candidate) int { return boolRank(c.dir == "") }
func goRank(c candidate) int     { return boolRank(c.runtime != RuntimeGo) }
func exactRank(c candidate) int  { return boolRank(c.dir != c.name) }

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shadowReason says why win beat lost.
func shadowReason(win, lost candidate) string {
	switch {
	case win.dir != "" && lost.dir == "":
		return "a folder wins over a file"
	case win.dir == "":
		return fmt.Sprintf("%s wins over %s", path.Ext(win.entry), path.Ext(lost.entry))
	default:
		return fmt.Sprintf("both are named %s", win.name)
	}
}

// resolve makes the Function for the winning candidate c: it checks the name
// and works out the kind from the name, s and, for JS/TS, the source.
func resolve(fsys fs.FS, c candidate, s Settings, w *warnings) (Function, error) {
	fn := Function{Name: c.name, Runtime: c.runtime, Entry: c.entry, Dir: c.dir, Kind: KindSync}
	switch {
	case !validName(c.name):
		fn.Invalid = InvalidName
		w.add(c.name, "Function name '%s' is invalid. It should consist only of alphanumeric characters, hyphen & underscores.", c.name)
	case c.name == reservedName:
		fn.Invalid = fmt.Sprintf("'%s' is a reserved word and cannot be used as a function name.", reservedName)
		w.add(c.name, "%s", fn.Invalid)
	}

	var src inSource
	if c.runtime != RuntimeGo {
		data, err := fs.ReadFile(fsys, c.entry)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Removed since the directory was read, or a dangling link: the
			// build will report it.
		case err != nil:
			return Function{}, fmt.Errorf("read %s: %w", c.entry, err)
		default:
			src = readInSource(string(data))
			for _, msg := range src.warnings {
				w.add(c.name, "%s: %s", c.entry, msg)
			}
		}
	}

	suffix := strings.HasSuffix(c.name, backgroundSuffix)
	background := suffix || src.background || (s.Background != nil && *s.Background)
	if suffix && s.Background != nil && !*s.Background {
		w.add(c.name, "%s: background = false in netlify.toml has no effect: a name ending in %s always makes a background function", c.name, backgroundSuffix)
	}

	cron := s.Schedule
	if src.schedule != "" {
		if s.Schedule != "" && s.Schedule != src.schedule {
			w.add(c.name, "%s: the schedule %q in %s overrides %q from netlify.toml", c.name, src.schedule, c.entry, s.Schedule)
		}
		cron = src.schedule
	}

	switch {
	case background:
		fn.Kind = KindBackground
		if cron != "" {
			w.add(c.name, "%s: the schedule %q is ignored because background functions are not scheduled (background wins)", c.name, cron)
		}
	case cron != "":
		fn.Kind = KindScheduled
		fn.Schedule = cron
	}

	fn.Paths, fn.ExcludedPaths, fn.Methods, fn.PreferStatic = src.paths, src.excludedPaths, src.methods, src.preferStatic
	fn.Handlers = src.handlers
	switch {
	case src.errKey != "":
		fn.ConfigError = fmt.Sprintf(configError, c.name, src.errKey, src.errMsg)
	case fn.Kind == KindScheduled:
		// zip-it-and-ship-it takes any string; bgfn checks it, since a
		// schedule that cannot be parsed never runs.
		if _, err := schedule.Parse(fn.Schedule); err != nil {
			fn.ConfigError = fmt.Sprintf(configError, c.name, "schedule", err)
		}
	}
	if fn.ConfigError != "" {
		w.add(c.name, "%s", fn.ConfigError)
	}
	return fn, nil
}

// validName reports whether name matches Netlify's /^[A-Za-z0-9_-]+$/.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// runtimeOf maps a JS/TS entry file extension to its runtime.
func runtimeOf(ext string) Runtime {
	switch ext {
	case ".ts", ".tsx", ".mts", ".cts":
		return RuntimeTS
	}
	return RuntimeJS
}

// warnings collects warning lines keyed by function name, so that they come
// out grouped and in name order whatever order they were found in.
type warnings struct {
	list []warning
}

type warning struct{ key, msg string }

func (w *warnings) add(key, format string, args ...any) {
	w.list = append(w.list, warning{key, fmt.Sprintf(format, args...)})
}

func (w *warnings) lines() []string {
	slices.SortStableFunc(w.list, func(a, b warning) int { return strings.Compare(a.key, b.key) })
	var out []string
	for _, x := range w.list {
		out = append(out, x.msg)
	}
	return out
}
