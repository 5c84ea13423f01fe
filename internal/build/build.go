// Package build turns function sources into something a worker can run:
// JS and TS are bundled in process by esbuild, one incremental build
// context per function, with the metafile giving each function's exact
// input files.
package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

// Artifact is the result of building one function.
type Artifact struct {
	// Entry is the file a worker loads (the bundle for JS/TS).
	Entry string
	// Inputs are the absolute paths of every source file the build read.
	Inputs []string
	// Duration is how long the build took.
	Duration time.Duration
	// Err is set when the build failed; the function stays listed and
	// answers 500 with it.
	Err *Error
	// Warnings are what the user should hear about a build that worked:
	// packages left out of the bundle because they cannot be resolved.
	Warnings []Message
	// NativeAddon is set when the bundle loads a .node file: Node loads a
	// native addon that is not context-aware in a main thread only.
	NativeAddon bool
}

// Error is a failed build: one or more diagnostics.
type Error struct {
	Function string
	Messages []Message
}

// Message is one diagnostic with its position.
type Message struct {
	File   string // relative to the site when possible
	Line   int    // 1-based; 0 when unknown
	Col    int    // 1-based
	Text   string
	Source string // the source line, when known
}

func (m Message) String() string {
	if m.File == "" {
		return m.Text
	}
	if m.Line == 0 {
		return m.File + ": " + m.Text
	}
	if m.Col == 0 {
		return fmt.Sprintf("%s:%d: %s", m.File, m.Line, m.Text)
	}
	return fmt.Sprintf("%s:%d:%d: %s", m.File, m.Line, m.Col, m.Text)
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		lines[i] = m.String()
	}
	return "build " + e.Function + ": " + strings.Join(lines, "; ")
}

// Detail renders every message with its source line and a caret, the way
// the 500 body and the terminal show a build failure.
func (e *Error) Detail() string {
	var b strings.Builder
	for i, m := range e.Messages {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m.String())
		if m.Source != "" {
			fmt.Fprintf(&b, "\n    %d | %s", m.Line, m.Source)
			if m.Col > 0 {
				fmt.Fprintf(&b, "\n    %s | %s^", strings.Repeat(" ", len(fmt.Sprint(m.Line))), strings.Repeat(" ", m.Col-1))
			}
		}
	}
	return b.String()
}

// JSOptions are the per-function settings that affect a JS/TS bundle.
type JSOptions struct {
	ExternalNodeModules []string
}

// JSBuilder bundles JS and TS functions with esbuild. It keeps one
// incremental context per function so rebuilds only redo what changed.
type JSBuilder struct {
	// SiteDir is esbuild's working directory; diagnostics are relative to it.
	SiteDir string
	// OutDir is where bundles are written (.netlify/bgfn/functions).
	OutDir string

	mu   sync.Mutex
	ctxs map[string]*jsContext
	// builds counts the builds written per function, numbering the
	// output files; it outlives a released context.
	builds map[string]int
}

type jsContext struct {
	ctx  api.BuildContext
	key  string // entry and options the context was made for
	out  string
	name string
	// Under JSBuilder.mu: building counts builds under way, used is when
	// the last one ended, and size is the bytes of its inputs (esbuild
	// keeps their parsed form between builds).
	building int
	used     time.Time
	size     int
}

// banner makes CommonJS code bundled into an ES module work: esbuild's
// require shim needs a real require for Node built-ins and externals
// ("Dynamic require of "fs" is not supported" otherwise).
const banner = `import { createRequire as __bgfnCreateRequire } from "node:module";
const require = __bgfnCreateRequire(import.meta.url);`

// Build bundles the function whose entry file is entry (absolute) into
// OutDir/name/name.mjs.
func (b *JSBuilder) Build(name, entry string, opts JSOptions) Artifact {
	start := time.Now()
	c, err := b.context(name, entry, opts)
	if err != nil {
		return Artifact{Err: err, Duration: time.Since(start), Inputs: []string{entry}}
	}
	res := c.ctx.Rebuild()
	art := Artifact{Duration: time.Since(start)}
	var size int
	art.Inputs, size = b.inputs(res.Metafile)
	b.mu.Lock()
	c.building--
	c.used, c.size = time.Now(), size
	b.mu.Unlock()
	art.NativeAddon = nativeAddon(res.Metafile)
	if len(art.Inputs) == 0 {
		art.Inputs = []string{entry}
	}
	if len(res.Errors) > 0 {
		art.Err = b.convert(name, res.Errors)
		return art
	}
	art.Warnings = b.lazyWarnings(res.Warnings)
	out, werr := b.write(c, res.OutputFiles)
	if werr != nil {
		art.Err = &Error{Function: name, Messages: []Message{{Text: "write bundle: " + werr.Error()}}}
		return art
	}
	art.Entry = out
	art.Duration = time.Since(start)
	return art
}

// write stores one build's output under names of its own
// (NAME.N.mjs and NAME.N.mjs.map), each written to a temporary file and
// renamed: a worker starting at any moment loads a whole bundle, and a
// pool keeps loading the build it was made for while a newer one lands.
func (b *JSBuilder) write(c *jsContext, files []api.OutputFile) (string, error) {
	b.mu.Lock()
	b.builds[c.name]++
	n := b.builds[c.name]
	b.mu.Unlock()
	tag := "." + strconv.Itoa(n)
	base := filepath.Base(c.out) // NAME.mjs
	dir := filepath.Dir(c.out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var entry string
	for _, f := range files {
		name := filepath.Base(f.Path)
		contents := f.Contents
		switch name {
		case base:
			// Point the bundle at its own map.
			contents = bytes.Replace(contents, []byte("//# sourceMappingURL="+base+".map"), []byte("//# sourceMappingURL="+versioned(base, tag)+".map"), 1)
			name = versioned(base, tag)
			entry = filepath.Join(dir, name)
		case base + ".map":
			name = versioned(base, tag) + ".map"
		}
		p := filepath.Join(dir, name)
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, contents, 0o644); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, p); err != nil {
			return "", err
		}
	}
	if entry == "" {
		return "", fmt.Errorf("esbuild wrote no %s", base)
	}
	cleanBundles(dir, base, n)
	return entry, nil
}

// versioned turns NAME.mjs into NAME.N.mjs for tag ".N".
func versioned(base, tag string) string {
	return strings.TrimSuffix(base, ".mjs") + tag + ".mjs"
}

// cleanBundles removes bundles older than the last three builds: workers
// of the pool before the current one may still start from them.
func cleanBundles(dir, base string, current int) {
	stem := strings.TrimSuffix(base, ".mjs") + "."
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), stem)
		if !ok {
			continue
		}
		numStr, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(numStr); err == nil && n <= current-3 {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func (b *JSBuilder) context(name, entry string, opts JSOptions) (*jsContext, *Error) {
	key := entry + "\x00" + strings.Join(opts.ExternalNodeModules, ",")
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctxs == nil {
		b.ctxs = make(map[string]*jsContext)
		b.builds = make(map[string]int)
	}
	if c, ok := b.ctxs[name]; ok {
		if c.key == key {
			c.building++
			return c, nil
		}
		c.ctx.Dispose()
		delete(b.ctxs, name)
	}
	out := filepath.Join(b.OutDir, name, name+".mjs")
	external := append([]string{"*.node"}, opts.ExternalNodeModules...)
	ctx, cerr := api.Context(api.BuildOptions{
		EntryPoints: []string{entry},
		Outfile:     out,
		Bundle:      true,
		Platform:    api.PlatformNode,
		Format:      api.FormatESModule,
		Target:      api.ES2022,
		Engines:     []api.Engine{{Name: api.EngineNode, Version: "18"}},
		Sourcemap:   api.SourceMapLinked,
		// Stack traces need only the mappings; leaving the sources out of
		// the map keeps it small for Node to parse and hold.
		SourcesContent: api.SourcesContentExclude,
		Banner:         map[string]string{"js": banner},
		External:       external,
		// err.name and fn.name must read as written: two bundled modules
		// that both declare FetchError must not see one of them renamed.
		KeepNames:     true,
		Metafile:      true,
		Write:         false,
		LogLevel:      api.LogLevelSilent,
		AbsWorkingDir: b.SiteDir,
		// Resolve as Node does: esbuild adds the "require" condition for
		// require() and "import" for import, and with main before module a
		// require() of a dual package gets its CommonJS build. An explicit
		// list also keeps out esbuild's webpack-only "module" condition,
		// which would hand require() an ES module.
		MainFields: []string{"main", "module"},
		Conditions: []string{"node"},
		Loader:     map[string]api.Loader{".node": api.LoaderFile},
		Plugins:    []api.Plugin{lazyRequirePlugin},
	})
	if cerr != nil {
		return nil, b.convert(name, cerr.Errors)
	}
	c := &jsContext{ctx: ctx, key: key, out: out, name: name, building: 1}
	b.ctxs[name] = c
	return c, nil
}

// ReleaseIdle disposes of the contexts of functions not built for longer
// than idle whose inputs weigh at least minBytes: esbuild holds every
// parsed input of a context between builds, tens of MB for a function
// with a large dependency. The next build of such a function starts a
// fresh context (a full build, not an incremental one). It reports how
// many it released.
func (b *JSBuilder) ReleaseIdle(idle time.Duration, minBytes int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for name, c := range b.ctxs {
		if c.building > 0 || c.size < minBytes || time.Since(c.used) < idle {
			continue
		}
		c.ctx.Dispose()
		delete(b.ctxs, name)
		n++
	}
	return n
}

// Contexts is how many build contexts are held.
func (b *JSBuilder) Contexts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.ctxs)
}

// Forget disposes of the build context of a function that is gone.
func (b *JSBuilder) Forget(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.ctxs[name]; ok {
		c.ctx.Dispose()
		delete(b.ctxs, name)
	}
}

// Close disposes of every build context.
func (b *JSBuilder) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, c := range b.ctxs {
		c.ctx.Dispose()
		delete(b.ctxs, name)
	}
}

// nativeAddon reports whether a build reads or imports a .node file.
func nativeAddon(metafile string) bool {
	var meta struct {
		Inputs  map[string]json.RawMessage `json:"inputs"`
		Outputs map[string]struct {
			Imports []struct {
				Path string `json:"path"`
			} `json:"imports"`
		} `json:"outputs"`
	}
	if json.Unmarshal([]byte(metafile), &meta) != nil {
		return false
	}
	for p := range meta.Inputs {
		if strings.HasSuffix(p, ".node") {
			return true
		}
	}
	for _, o := range meta.Outputs {
		for _, im := range o.Imports {
			if strings.HasSuffix(im.Path, ".node") {
				return true
			}
		}
	}
	return false
}

// inputs lists a build's input files from its metafile, and their bytes.
func (b *JSBuilder) inputs(metafile string) (files []string, size int) {
	if metafile == "" {
		return nil, 0
	}
	var meta struct {
		Inputs map[string]struct {
			Bytes int `json:"bytes"`
		} `json:"inputs"`
	}
	if json.Unmarshal([]byte(metafile), &meta) != nil {
		return nil, 0
	}
	for p, in := range meta.Inputs {
		size += in.Bytes
		// esbuild names virtual modules with a namespace prefix ("<runtime>").
		if strings.Contains(p, ":") && !filepath.IsAbs(p) {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(b.SiteDir, p)
		}
		files = append(files, filepath.Clean(p))
	}
	sort.Strings(files)
	return files, size
}

func (b *JSBuilder) convert(name string, msgs []api.Message) *Error {
	e := &Error{Function: name}
	for _, m := range msgs {
		msg := Message{Text: m.Text}
		if l := m.Location; l != nil {
			msg.File = b.rel(l.File)
			msg.Line = l.Line
			msg.Col = l.Column + 1
			msg.Source = l.LineText
		}
		e.Messages = append(e.Messages, msg)
	}
	if len(e.Messages) == 0 {
		e.Messages = []Message{{Text: "esbuild failed without a message"}}
	}
	return e
}

func (b *JSBuilder) rel(p string) string {
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.SiteDir, p)
	}
	return rel(b.SiteDir, p)
}

// EnsureDir creates dir and a .gitignore in it so build output never ends
// up in the user's repository.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gi := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(gi); err == nil {
		return nil
	}
	return os.WriteFile(gi, []byte("# written by bgfn: build output and state\n*\n"), 0o644)
}

// lazyRequireName names the plugin whose warnings reach the user.
const lazyRequireName = "bgfn-lazy-require"

// lazyRequireMarker marks the plugin's own resolve calls so it does not see
// them again.
type lazyRequireMarker struct{}

// lazyRequirePlugin keeps a bare require() or import() of a package that
// cannot be resolved out of the bundle, with a warning, instead of failing
// the build: such calls often sit on a path that never runs (middy 0.x
// requires aws-sdk this way), and Node and Netlify load the module only if
// the call runs. When it does, Node's own "Cannot find module" error
// reaches the response. A static import of a missing package stays a build
// error, as it is for Node.
var lazyRequirePlugin = api.Plugin{
	Name: lazyRequireName,
	Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `^[^./]`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
			if _, ours := args.PluginData.(lazyRequireMarker); ours {
				return api.OnResolveResult{}, nil
			}
			if args.Kind != api.ResolveJSRequireCall && args.Kind != api.ResolveJSDynamicImport {
				return api.OnResolveResult{}, nil
			}
			res := b.Resolve(args.Path, api.ResolveOptions{
				Importer:   args.Importer,
				Namespace:  args.Namespace,
				ResolveDir: args.ResolveDir,
				Kind:       args.Kind,
				PluginData: lazyRequireMarker{},
				With:       args.With,
			})
			if len(res.Errors) == 0 {
				// Let esbuild resolve it as usual.
				return api.OnResolveResult{}, nil
			}
			pkg := packageName(args.Path)
			call := "require"
			if args.Kind == api.ResolveJSDynamicImport {
				call = "import"
			}
			return api.OnResolveResult{
				Path:     args.Path,
				External: true,
				Warnings: []api.Message{{Text: fmt.Sprintf(
					"%s(%q) cannot be resolved, so %s is left out of the bundle; the function fails with Cannot find module if this line runs. Run npm install %s, or add %q to external_node_modules in netlify.toml to silence this",
					call, args.Path, pkg, pkg, pkg)}},
			}, nil
		})
	},
}

// packageName is the npm package a bare specifier names: "a" for "a/b",
// "@s/a" for "@s/a/b".
func packageName(spec string) string {
	parts := strings.SplitN(spec, "/", 3)
	if strings.HasPrefix(spec, "@") && len(parts) >= 2 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// lazyWarnings picks the lazy-require plugin's warnings out of a build's.
func (b *JSBuilder) lazyWarnings(msgs []api.Message) []Message {
	var out []Message
	for _, m := range msgs {
		if m.PluginName != lazyRequireName {
			continue
		}
		msg := Message{Text: m.Text}
		if l := m.Location; l != nil {
			msg.File = b.rel(l.File)
			msg.Line = l.Line
			msg.Col = l.Column + 1
			msg.Source = l.LineText
		}
		out = append(out, msg)
	}
	return out
}
