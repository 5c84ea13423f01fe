// Package config loads a site's netlify.toml and .env files into a typed Config.
//
// It follows netlify-cli's rules for the functions directory, [functions]
// settings and environment precedence (see the research notes in
// reference/netlify-cli.md, sections 1 and 10), reads only what bgfn needs,
// and warns about keys it does not know instead of failing. Errors and
// warnings never include environment values.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Config is everything bgfn needs to know about a site, resolved from
// netlify.toml, .env files, the process environment and command-line overrides.
type Config struct {
	// SiteDir is the absolute path of the site folder (--dir, default ".").
	SiteDir string
	// BaseDir is SiteDir joined with [build] base, or SiteDir when unset.
	BaseDir string
	// ConfigFile is the absolute path of the netlify.toml that was read, or ""
	// when the site has none.
	ConfigFile string
	// FunctionsDir is the absolute functions directory, resolved in order from
	// Options.FunctionsDir, [dev] functions, [functions] directory,
	// [context.X] functions, [build] functions, and netlify/functions, as
	// netlify-cli does. Values from netlify.toml are relative to BaseDir. The
	// directory may not exist.
	FunctionsDir string
	// FunctionsDirSource says where FunctionsDir came from: "flag",
	// "[dev] functions", "[functions] directory", "[context.X] functions"
	// (with the context's name), "[build] functions" or "default".
	FunctionsDirSource string
	// Port is [dev] functionsPort, else [dev] port, else 0 when neither is set
	// (the caller applies its own default).
	Port int
	// Env is the environment given to functions: the merged site environment
	// ([build.environment] < [context.dev.environment] < .env files), with
	// every key that is set in the process environment taken from there (the
	// shell wins, as in netlify-cli). It does not contain the rest of the
	// process environment.
	Env map[string]string
	// EnvSources maps each key of Env to where its value came from, e.g.
	// ".env.local", "netlify.toml [build.environment]", "shell". Used to print
	// where a variable came from without printing its value.
	EnvSources map[string]string
	// EnvFiles lists the absolute paths of the .env files that were read, in
	// the order they were applied (lowest precedence first).
	EnvFiles []string
	// WatchPaths lists the absolute paths of every file whose creation,
	// change or removal changes the Config: netlify.toml and each candidate
	// .env file, whether or not they exist.
	WatchPaths []string
	// Functions holds the [functions] table: the top-level defaults and the
	// per-name-or-glob tables, in file order.
	Functions FunctionsConfig
	// Warnings are non-fatal problems (unknown keys and the like), each one
	// line naming the file and the key.
	Warnings []string
}

// FunctionsConfig is the [functions] table of netlify.toml.
type FunctionsConfig struct {
	// Defaults holds the keys set directly under [functions].
	Defaults FunctionSettings
	// Patterns holds [functions."name-or-glob"] tables in the order they
	// appear in the file.
	Patterns []PatternSettings
}

// PatternSettings is one [functions."name-or-glob"] table.
type PatternSettings struct {
	// Pattern is the table's key: a function name or a glob (see
	// FunctionsConfig.For for the syntax).
	Pattern string
	FunctionSettings
}

// FunctionSettings are the per-function keys bgfn understands. Empty
// strings and nil slices mean unset.
type FunctionSettings struct {
	NodeBundler         string   // node_bundler
	ExternalNodeModules []string // external_node_modules
	IncludedFiles       []string // included_files
	Schedule            string   // schedule
	Background          *bool    // background; nil when unset
}

// Options are the command-line overrides that affect loading.
type Options struct {
	// Dir is the site folder (--dir). Empty means the current directory.
	Dir string
	// FunctionsDir overrides the functions directory (--functions); relative
	// to the current directory as a user typed it.
	FunctionsDir string
	// Context is the deploy context whose [context.X] table applies
	// (environment, base and functions); empty means "dev".
	Context string
	// LookupEnv reads the process environment; nil means os.LookupEnv.
	// Injected so tests do not depend on the real environment.
	LookupEnv func(string) (string, bool)
}

// Load reads the site's netlify.toml (if any) and .env files and resolves
// everything in Config. Syntax and type errors in either kind of file are
// returned as *ParseError; unknown keys become Config.Warnings.
func Load(opts Options) (*Config, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("get current directory: %w", err)
	}
	l := &loader{cwd: cwd, lookupEnv: opts.LookupEnv, context: opts.Context}
	if l.lookupEnv == nil {
		l.lookupEnv = os.LookupEnv
	}
	if l.context == "" {
		l.context = "dev"
	}

	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	cfg := &Config{SiteDir: l.abs(dir)}
	switch fi, err := os.Stat(cfg.SiteDir); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("site folder %s does not exist", dir)
	case err != nil:
		return nil, fmt.Errorf("site folder %s: %w", dir, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("site folder %s is not a directory", dir)
	}

	tomlPath := filepath.Join(cfg.SiteDir, "netlify.toml")
	cfg.WatchPaths = append(cfg.WatchPaths, tomlPath)
	fc := &fileConfig{}
	switch data, err := os.ReadFile(tomlPath); {
	case err == nil:
		cfg.ConfigFile = tomlPath
		if fc, err = decodeNetlifyTOML(l.display(tomlPath), data, l.context); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg.Warnings = fc.warnings
	cfg.Functions = fc.functions

	cfg.BaseDir = cfg.SiteDir
	if fc.base != "" {
		cfg.BaseDir = resolve(cfg.SiteDir, fc.base)
	}

	inBase := func(p string) string { return resolve(cfg.BaseDir, p) }
	switch {
	case opts.FunctionsDir != "":
		cfg.FunctionsDir, cfg.FunctionsDirSource = l.abs(opts.FunctionsDir), "flag"
	case fc.devFunctions != "":
		cfg.FunctionsDir, cfg.FunctionsDirSource = inBase(fc.devFunctions), "[dev] functions"
	case fc.functionsDirectory != "":
		cfg.FunctionsDir, cfg.FunctionsDirSource = inBase(fc.functionsDirectory), "[functions] directory"
	case fc.contextFunctions != "":
		cfg.FunctionsDir, cfg.FunctionsDirSource = inBase(fc.contextFunctions), "[context."+l.context+"] functions"
	case fc.buildFunctions != "":
		cfg.FunctionsDir, cfg.FunctionsDirSource = inBase(fc.buildFunctions), "[build] functions"
	default:
		cfg.FunctionsDir, cfg.FunctionsDirSource = inBase(filepath.Join("netlify", "functions")), "default"
	}

	switch {
	case fc.functionsPort.set:
		cfg.Port = fc.functionsPort.val
	case fc.port.set:
		cfg.Port = fc.port.val
	}

	if err := l.loadEnv(cfg, fc); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loader holds what Load needs besides the Options' paths.
type loader struct {
	cwd       string
	lookupEnv func(string) (string, bool)
	context   string
}

// abs resolves a path the user typed, relative to the current directory.
func (l *loader) abs(p string) string {
	return resolve(l.cwd, p)
}

// display returns how to show path p to the user: relative to the current
// directory when it is inside it, else absolute.
func (l *loader) display(p string) string {
	rel, err := filepath.Rel(l.cwd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return rel
}

// resolve joins p to dir unless p is absolute, and cleans the result.
func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
