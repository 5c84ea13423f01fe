package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeSite creates a site folder holding files (slash-separated relative
// paths) and returns its absolute path.
func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// emptyEnv is a process environment with nothing in it.
func emptyEnv(string) (string, bool) { return "", false }

// mustLoad loads the site in dir with an empty process environment.
func mustLoad(t *testing.T, dir string) *Config {
	t.Helper()
	cfg, err := Load(Options{Dir: dir, LookupEnv: emptyEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// loadErr loads the site in dir and returns its *ParseError, failing the
// test if Load succeeds or fails otherwise.
func loadErr(t *testing.T, opts Options) *ParseError {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = emptyEnv
	}
	_, err := Load(opts)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Load error = %v (%T), want *ParseError", err, err)
	}
	return pe
}

func TestLoadSiteDir(t *testing.T) {
	site := writeSite(t, map[string]string{"file.txt": ""})

	t.Run("missing", func(t *testing.T) {
		missing := filepath.Join(site, "nope")
		_, err := Load(Options{Dir: missing, LookupEnv: emptyEnv})
		if err == nil || err.Error() != "site folder "+missing+" does not exist" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		_, err := Load(Options{Dir: filepath.Join(site, "file.txt"), LookupEnv: emptyEnv})
		if err == nil || !strings.HasSuffix(err.Error(), "is not a directory") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no netlify.toml", func(t *testing.T) {
		cfg := mustLoad(t, site)
		if cfg.SiteDir != site || cfg.BaseDir != site || cfg.ConfigFile != "" {
			t.Errorf("SiteDir %q BaseDir %q ConfigFile %q", cfg.SiteDir, cfg.BaseDir, cfg.ConfigFile)
		}
		if len(cfg.Warnings) != 0 {
			t.Errorf("Warnings = %q", cfg.Warnings)
		}
		if !slices.Contains(cfg.WatchPaths, filepath.Join(site, "netlify.toml")) {
			t.Errorf("WatchPaths = %q, want netlify.toml in it", cfg.WatchPaths)
		}
	})
	t.Run("relative dir and cwd default", func(t *testing.T) {
		parent := writeSite(t, map[string]string{"site/netlify.toml": "[build]\nfunctions = \"fns\"\n"})
		t.Chdir(parent)
		cfg := mustLoad(t, "site")
		if want := filepath.Join(parent, "site"); cfg.SiteDir != want {
			t.Errorf("SiteDir = %q, want %q", cfg.SiteDir, want)
		}
		if want := filepath.Join(parent, "site", "netlify.toml"); cfg.ConfigFile != want {
			t.Errorf("ConfigFile = %q, want %q", cfg.ConfigFile, want)
		}
		t.Chdir(filepath.Join(parent, "site"))
		cfg = mustLoad(t, "")
		if want := filepath.Join(parent, "site", "fns"); cfg.FunctionsDir != want {
			t.Errorf("FunctionsDir = %q, want %q", cfg.FunctionsDir, want)
		}
	})
}

func TestLoadFunctionsDir(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		flag    string // Options.FunctionsDir, relative to the site (the cwd)
		context string
		wantDir string // relative to the site
		wantSrc string
		wantBas string // BaseDir relative to the site
	}{
		{name: "default", wantDir: "netlify/functions", wantSrc: "default", wantBas: "."},
		{
			name:    "build functions",
			toml:    "[build]\nfunctions = \"functions/\"\n",
			wantDir: "functions", wantSrc: "[build] functions", wantBas: ".",
		},
		{
			name:    "functions directory beats build functions",
			toml:    "[build]\nfunctions = \"old\"\n[functions]\ndirectory = \"new\"\n",
			wantDir: "new", wantSrc: "[functions] directory", wantBas: ".",
		},
		{
			name:    "dev functions beats functions directory",
			toml:    "[dev]\nfunctions = \"devfns\"\n[functions]\ndirectory = \"new\"\n",
			wantDir: "devfns", wantSrc: "[dev] functions", wantBas: ".",
		},
		{
			name:    "flag beats everything",
			toml:    "[dev]\nfunctions = \"devfns\"\n[functions]\ndirectory = \"new\"\n[build]\nfunctions = \"old\"\n",
			flag:    "./flagged/",
			wantDir: "flagged", wantSrc: "flag", wantBas: ".",
		},
		{
			name:    "base dir with default",
			toml:    "[build]\nbase = \"app\"\n",
			wantDir: "app/netlify/functions", wantSrc: "default", wantBas: "app",
		},
		{
			name:    "base dir with build functions",
			toml:    "[build]\nbase = \"app\"\nfunctions = \"fns\"\n",
			wantDir: "app/fns", wantSrc: "[build] functions", wantBas: "app",
		},
		{
			name:    "base dir with functions directory",
			toml:    "[build]\nbase = \"app\"\n[functions]\ndirectory = \"../shared/fns\"\n",
			wantDir: "shared/fns", wantSrc: "[functions] directory", wantBas: "app",
		},
		{
			name:    "flag is relative to the cwd, not the base",
			toml:    "[build]\nbase = \"app\"\n",
			flag:    "fns",
			wantDir: "fns", wantSrc: "flag", wantBas: "app",
		},
		{
			name:    "dev context functions beats build functions",
			toml:    "[build]\nfunctions = \"old\"\n[context.dev]\nfunctions = \"ctx\"\n",
			wantDir: "ctx", wantSrc: "[context.dev] functions", wantBas: ".",
		},
		{
			name:    "other contexts do not apply",
			toml:    "[build]\nfunctions = \"old\"\n[context.production]\nfunctions = \"prod\"\nbase = \"prodbase\"\n",
			wantDir: "old", wantSrc: "[build] functions", wantBas: ".",
		},
		{
			name:    "selected context",
			toml:    "[build]\nfunctions = \"old\"\n[context.production]\nfunctions = \"prod\"\nbase = \"prodbase\"\n",
			context: "production",
			wantDir: "prodbase/prod", wantSrc: "[context.production] functions", wantBas: "prodbase",
		},
		{
			name:    "functions directory beats context functions",
			toml:    "[functions]\ndirectory = \"new\"\n[context.dev]\nfunctions = \"ctx\"\n",
			wantDir: "new", wantSrc: "[functions] directory", wantBas: ".",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeSite(t, map[string]string{"netlify.toml": tt.toml})
			t.Chdir(site)
			cfg, err := Load(Options{Dir: site, FunctionsDir: tt.flag, Context: tt.context, LookupEnv: emptyEnv})
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(site, filepath.FromSlash(tt.wantDir)); cfg.FunctionsDir != want {
				t.Errorf("FunctionsDir = %q, want %q", cfg.FunctionsDir, want)
			}
			if cfg.FunctionsDirSource != tt.wantSrc {
				t.Errorf("FunctionsDirSource = %q, want %q", cfg.FunctionsDirSource, tt.wantSrc)
			}
			if want := filepath.Join(site, filepath.FromSlash(tt.wantBas)); cfg.BaseDir != want {
				t.Errorf("BaseDir = %q, want %q", cfg.BaseDir, want)
			}
			if len(cfg.Warnings) != 0 {
				t.Errorf("Warnings = %q", cfg.Warnings)
			}
		})
	}
}

func TestLoadPort(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want int
	}{
		{name: "unset", toml: "", want: 0},
		{name: "port", toml: "[dev]\nport = 8888\n", want: 8888},
		{name: "functionsPort wins", toml: "[dev]\nport = 8888\nfunctionsPort = 9999\n", want: 9999},
		{name: "functionsPort alone", toml: "[dev]\nfunctionsPort = 34567\n", want: 34567},
		{name: "zero", toml: "[dev]\nport = 0\n", want: 0},
		{name: "max", toml: "[dev]\nport = 65535\n", want: 65535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, writeSite(t, map[string]string{"netlify.toml": tt.toml}))
			if cfg.Port != tt.want {
				t.Errorf("Port = %d, want %d", cfg.Port, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		toml     string
		wantLine int
		wantCol  bool // whether Col must be > 0
		wantMsg  string
		secret   string // must not appear in the error
	}{
		{
			name:     "unclosed string",
			toml:     "[build]\nfunctions = \"f\"\nbase = \"abc\n",
			wantLine: 3, wantCol: true, wantMsg: "strings cannot contain newlines",
		},
		{
			name:     "duplicate table",
			toml:     "[build]\nbase = \"a\"\n[build]\n",
			wantLine: 3, wantCol: true, wantMsg: "already been defined",
		},
		{
			name:     "port is a string",
			toml:     "[dev]\nport = \"abc\"\n",
			wantLine: 2, wantCol: true, wantMsg: "dev.port: expected an integer, got a string",
		},
		{
			name:     "port out of range",
			toml:     "[dev]\n\nfunctionsPort = 70000\n",
			wantLine: 3, wantCol: true, wantMsg: "dev.functionsPort: must be between 0 and 65535",
		},
		{
			name:     "negative port",
			toml:     "[dev]\nport = -1\n",
			wantLine: 2, wantMsg: "dev.port: must be between 0 and 65535",
		},
		{
			name:     "build functions not a string",
			toml:     "[build]\nfunctions = 3\n",
			wantLine: 2, wantMsg: "build.functions: expected a string, got an integer",
		},
		{
			name:     "build is not a table",
			toml:     "build = 3\n",
			wantLine: 1, wantMsg: "build: expected a table",
		},
		{
			name:     "functions is not a table",
			toml:     "functions = \"fns\"\n",
			wantLine: 1, wantMsg: "functions: expected a table",
		},
		{
			name:     "environment is not a table",
			toml:     "[build]\nenvironment = \"s3cr3t\"\n",
			wantLine: 2, wantMsg: "build.environment: expected a table, got a string", secret: "s3cr3t",
		},
		{
			name:     "context is not a table",
			toml:     "context = 1\n",
			wantLine: 1, wantMsg: "context: expected a table, got an integer",
		},
		{
			name:     "a context is not a table",
			toml:     "[context]\ndev = \"x\"\n",
			wantLine: 2, wantMsg: "context.dev: expected a table",
		},
		{
			name:     "other context environment is checked",
			toml:     "[context.production.environment]\nX = { a = 1 }\n",
			wantLine: 2, wantMsg: "context.production.environment.X: expected a string, got a table",
		},
		{
			name:     "envFiles not strings",
			toml:     "[dev]\nenvFiles = [\".env\", 3]\n",
			wantLine: 2, wantMsg: "dev.envFiles: expected an array of strings, element 1 is an integer",
		},
		{
			name:     "per-function directory",
			toml:     "[functions]\nnode_bundler = \"esbuild\"\n[functions.\"x\"]\ndirectory = \"fns\"\n",
			wantLine: 4, wantMsg: `functions."x".directory: must be defined on the main "functions" object`,
		},
		{
			name:     "pattern value of the wrong type",
			toml:     "[functions.\"api-*\"]\nbackground = \"yes\"\n",
			wantLine: 2, wantMsg: `functions."api-*".background: expected a boolean, got a string`,
		},
		{
			name:     "functions default of the wrong type",
			toml:     "[functions]\nincluded_files = \"a/**\"\n",
			wantLine: 2, wantMsg: "functions.included_files: expected an array of strings, got a string",
		},
		{
			name:     "context functions of the wrong type",
			toml:     "[context.dev]\nfunctions = 1\n",
			wantLine: 2, wantMsg: "context.dev.functions: expected a string, got an integer",
		},
		{
			name:     "environment value of the wrong type",
			toml:     "[build.environment]\nTOKEN = [\"s3cr3t\"]\n",
			wantLine: 2, wantMsg: "build.environment.TOKEN: expected a string, got an array", secret: "s3cr3t",
		},
		{
			name:     "unquoted environment value is not echoed",
			toml:     "[build.environment]\nTOKEN = s3cr3t\n",
			wantLine: 2, wantCol: true, wantMsg: "expected value", secret: "s3cr3t",
		},
		{
			name:     "unquoted context environment value is not echoed",
			toml:     "[context.dev.environment]\nTOKEN = s3cr3t\n",
			wantLine: 2, wantCol: true, wantMsg: "expected value", secret: "s3cr3t",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeSite(t, map[string]string{"netlify.toml": tt.toml})
			t.Chdir(site)
			pe := loadErr(t, Options{})
			if pe.File != "netlify.toml" {
				t.Errorf("File = %q, want netlify.toml", pe.File)
			}
			if pe.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (%v)", pe.Line, tt.wantLine, pe)
			}
			if tt.wantCol && pe.Col <= 0 {
				t.Errorf("Col = %d, want > 0", pe.Col)
			}
			if !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.wantMsg)
			}
			if strings.Contains(pe.Msg, "\n") {
				t.Errorf("Msg %q has more than one line", pe.Msg)
			}
			if prefix := "netlify.toml:" + strconv.Itoa(tt.wantLine) + ":"; !strings.HasPrefix(pe.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", pe.Error(), prefix)
			}
			if tt.secret != "" && strings.Contains(pe.Error(), tt.secret) {
				t.Errorf("Error() = %q shows the value", pe.Error())
			}
		})
	}
}

func TestLoadErrorFileName(t *testing.T) {
	parent := writeSite(t, map[string]string{
		"site/netlify.toml": "x = \"abc\n",
		"cwd/keep":          "",
	})

	t.Run("site below the cwd", func(t *testing.T) {
		t.Chdir(parent)
		pe := loadErr(t, Options{Dir: "site"})
		if want := filepath.Join("site", "netlify.toml"); pe.File != want {
			t.Errorf("File = %q, want %q", pe.File, want)
		}
		if pe.Line != 1 {
			t.Errorf("Line = %d, want 1", pe.Line)
		}
	})
	t.Run("site outside the cwd", func(t *testing.T) {
		t.Chdir(filepath.Join(parent, "cwd"))
		pe := loadErr(t, Options{Dir: "../site"})
		if want := filepath.Join(parent, "site", "netlify.toml"); pe.File != want {
			t.Errorf("File = %q, want %q", pe.File, want)
		}
	})
}

func TestLoadWarnings(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string
	}{
		{
			name: "well-known Netlify keys",
			toml: `
[Settings]
ID = "abc"

[build]
command = "npm run build"
publish = "dist"
ignore = "git diff --quiet"
edge_functions = "edge"
[build.processing.css]
bundle = true

[dev]
command = "npm start"
targetPort = 3000
framework = "#custom"
autoLaunch = false
publish = "dist"
jwtSecret = "s"
jwtRolePath = "app_metadata.roles"
https = { certFile = "c", keyFile = "k" }

[functions]
memory = 1024
ignored_node_modules = ["x"]
[functions."api-*"]
region = "us-east-1"

[[redirects]]
from = "/a"
to = "/b"
status = 301
[[redirects]]
from = "/c"
to = "/d"
[redirects.headers]
X-From = "x"

[[headers]]
for = "/*"
[headers.values]
X-Frame-Options = "DENY"

[[plugins]]
package = "@netlify/plugin-lighthouse"
[plugins.inputs]
output_path = "reports"

[[edge_functions]]
path = "/edge"
function = "edge"

[images]
remote_images = ["https://example.com/.*"]

[template.environment]
API_KEY = "description"

[context.production]
command = "make prod"
publish = "out"
[context.production.environment]
X = "1"
[context.deploy-preview.processing]
skip_processing = true
[[context.production.plugins]]
package = "p"
[context.branch-deploy.functions]
node_bundler = "esbuild"
`,
		},
		{
			name: "unknown keys, the outermost only, in file order",
			toml: `
top = 1
[build]
foo = "x"
[build.bar]
baz = 1
[dev]
prot = 8888
[nope]
a.b = 1
[context.dev]
nonsense = true
`,
			want: []string{
				`netlify.toml: unknown key "top" (ignored)`,
				`netlify.toml: unknown key "build.foo" (ignored)`,
				`netlify.toml: unknown key "build.bar" (ignored)`,
				`netlify.toml: unknown key "dev.prot" (ignored)`,
				`netlify.toml: unknown key "nope" (ignored)`,
				`netlify.toml: unknown key "context.dev.nonsense" (ignored)`,
			},
		},
		{
			name: "unknown keys in [functions]",
			toml: `
[functions]
node_bundler = "esbuild"
bundler = "zisi"
[functions."api-*"]
schedul = "@daily"
[functions.hello]
included_files = ["a"]
extra = { x = 1 }
`,
			want: []string{
				`netlify.toml: unknown key "functions.bundler" (ignored)`,
				`netlify.toml: unknown key 'functions."api-*".schedul' (ignored)`,
				`netlify.toml: unknown key "functions.hello.extra" (ignored)`,
			},
		},
		{
			name: "pattern warnings",
			toml: "[functions.\"!a\"]\nschedule = \"@daily\"\n[functions.\"[a\"]\nschedule = \"@daily\"\n",
			want: []string{
				`netlify.toml: 'functions."!a"': negated patterns are not supported (never matches)`,
				`netlify.toml: 'functions."[a"': malformed pattern (never matches)`,
			},
		},
		{
			name: "per-context functions table",
			toml: "[context.dev.functions]\nnode_bundler = \"esbuild\"\n",
			want: []string{
				`netlify.toml: "context.dev.functions": per-context [functions] settings are not supported (ignored)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeSite(t, map[string]string{"netlify.toml": tt.toml})
			t.Chdir(site)
			cfg := mustLoad(t, "")
			if !slices.Equal(cfg.Warnings, tt.want) {
				t.Errorf("Warnings:\n%s\nwant:\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadFunctionsConfig(t *testing.T) {
	site := writeSite(t, map[string]string{"netlify.toml": `
[functions]
directory = "fns"
node_bundler = "esbuild"
external_node_modules = ["sharp"]
included_files = ["data/**"]
"{a,b}-job" = { schedule = "@daily" }

[functions."api-*"]
included_files = ["api/**"]
background = true

[functions.hello]
node_bundler = "zisi"
schedule = "@hourly"
`})
	cfg := mustLoad(t, site)
	if want := filepath.Join(site, "fns"); cfg.FunctionsDir != want {
		t.Errorf("FunctionsDir = %q, want %q", cfg.FunctionsDir, want)
	}
	d := cfg.Functions.Defaults
	if d.NodeBundler != "esbuild" || !slices.Equal(d.ExternalNodeModules, []string{"sharp"}) ||
		!slices.Equal(d.IncludedFiles, []string{"data/**"}) || d.Background != nil || d.Schedule != "" {
		t.Errorf("Defaults = %+v", d)
	}
	var patterns []string
	for _, p := range cfg.Functions.Patterns {
		patterns = append(patterns, p.Pattern)
	}
	if want := []string{"{a,b}-job", "api-*", "hello"}; !slices.Equal(patterns, want) {
		t.Errorf("Patterns = %q, want %q", patterns, want)
	}

	got := cfg.Functions.For("api-users")
	if got.Background == nil || !*got.Background {
		t.Errorf("For(api-users).Background = %v, want true", got.Background)
	}
	if want := []string{"data/**", "api/**"}; !slices.Equal(got.IncludedFiles, want) {
		t.Errorf("For(api-users).IncludedFiles = %q, want %q", got.IncludedFiles, want)
	}
	if got := cfg.Functions.For("hello"); got.NodeBundler != "zisi" || got.Schedule != "@hourly" {
		t.Errorf("For(hello) = %+v", got)
	}
	if got := cfg.Functions.For("b-job"); got.Schedule != "@daily" || got.NodeBundler != "esbuild" {
		t.Errorf("For(b-job) = %+v", got)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %q", cfg.Warnings)
	}
}
