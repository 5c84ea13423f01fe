package site

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
)

// Site is a loaded site.
type Site struct {
	Config *config.Config
	// Functions are the discovered functions, sorted by name, with the
	// settings netlify.toml gives them.
	Functions []discover.Function
	// Warnings are every non-fatal problem: the configuration's, the
	// discovery's, and a missing functions folder.
	Warnings []string
}

// Load reads the configuration and discovers the functions.
func Load(opts config.Options) (*Site, error) {
	cfg, err := config.Load(opts)
	if err != nil {
		return nil, err
	}
	return FromConfig(cfg)
}

// FromConfig discovers the functions of an already loaded configuration
// (a reload that kept or replaced it).
func FromConfig(cfg *config.Config) (*Site, error) {
	fns, warnings, err := discover.Discover(os.DirFS(cfg.FunctionsDir), func(name string) discover.Settings {
		fs := cfg.Functions.For(name)
		return discover.Settings{Background: fs.Background, Schedule: fs.Schedule}
	})
	if err != nil {
		return nil, fmt.Errorf("discover functions in %s: %w", cfg.FunctionsDir, err)
	}
	s := &Site{Config: cfg, Functions: fns}
	s.Warnings = append(append(s.Warnings, cfg.Warnings...), warnings...)
	if _, err := os.Stat(cfg.FunctionsDir); err != nil {
		s.Warnings = append(s.Warnings, fmt.Sprintf("functions directory %s does not exist (from %s): create it, or set [functions] directory in netlify.toml or --functions",
			s.Rel(cfg.FunctionsDir), cfg.FunctionsDirSource))
	}
	return s, nil
}

// Function returns the function named name.
func (s *Site) Function(name string) (discover.Function, bool) {
	for _, fn := range s.Functions {
		if fn.Name == name {
			return fn, true
		}
	}
	return discover.Function{}, false
}

// Names lists the functions' names.
func (s *Site) Names() []string {
	out := make([]string, len(s.Functions))
	for i, fn := range s.Functions {
		out[i] = fn.Name
	}
	return out
}

// Only keeps just the function named name (a standalone invoke).
func (s *Site) Only(name string) {
	var keep []discover.Function
	for _, fn := range s.Functions {
		if fn.Name == name {
			keep = append(keep, fn)
		}
	}
	s.Functions = keep
}

// EntryPath is the absolute path of fn's entry file.
func (s *Site) EntryPath(fn discover.Function) string {
	return filepath.Join(s.Config.FunctionsDir, filepath.FromSlash(fn.Entry))
}

// FunctionDir is the absolute path of the folder fn lives in (its own
// folder, or the functions folder for a one-file function).
func (s *Site) FunctionDir(fn discover.Function) string {
	return filepath.Join(s.Config.FunctionsDir, filepath.FromSlash(fn.Dir))
}

// OutDir is where bgfn keeps build output and state: .netlify/bgfn.
func (s *Site) OutDir() string { return OutDir(s.Config.BaseDir) }

// OutDir is where bgfn keeps build output and state for a site whose base
// folder is baseDir.
func OutDir(baseDir string) string { return filepath.Join(baseDir, ".netlify", "bgfn") }

// Rel is p relative to the site folder, in slash form, when it is inside
// it; else p.
func (s *Site) Rel(p string) string { return Rel(s.Config.SiteDir, p) }

// Rel is p relative to base, in slash form, when it is inside base; else p.
func Rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

// WorkerEnv is the environment every worker starts from: bgfn's own
// environment, the site's variables over it, and Netlify's dev variables
// over those, for a server at url. Sorted, so two calls compare equal.
func (s *Site) WorkerEnv(url string) []string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	// bgfn gives each v2 invocation its own Blobs context; v1 functions
	// get none, as in production. One inherited from the shell (bgfn run
	// under netlify dev, say) would point at another server.
	delete(m, "NETLIFY_BLOBS_CONTEXT")
	for k, v := range s.Config.Env {
		m[k] = v
	}
	m["NETLIFY_DEV"] = "true"
	m["NETLIFY_LOCAL"] = "true"
	m["CONTEXT"] = "dev"
	m["URL"] = url
	m["DEPLOY_URL"] = url
	m["TZ"] = "UTC"
	m["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1024"
	if m["AWS_REGION"] == "" {
		m["AWS_REGION"] = "us-east-1"
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// NeedsNode reports whether any function runs on Node (JS or TS).
func (s *Site) NeedsNode() bool {
	for _, fn := range s.Functions {
		if fn.Runtime == discover.RuntimeJS || fn.Runtime == discover.RuntimeTS {
			return true
		}
	}
	return false
}
