package config

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadEnv(t *testing.T) {
	const toml = `
[build]
base = "app"
[build.environment]
FROM_BUILD = "build"
OVERRIDDEN_BY_CONTEXT = "build"
OVERRIDDEN_BY_FILE = "build"
FROM_SHELL = "build"
NUMBER = 42
FLAG = true
[context.dev.environment]
OVERRIDDEN_BY_CONTEXT = "dev"
[context.production]
environment = { OVERRIDDEN_BY_CONTEXT = "production", ONLY_PROD = "p" }
`
	files := map[string]string{
		"netlify.toml":               toml,
		"app/.env":                   "OVERRIDDEN_BY_FILE=env\nIN_ALL=env\nONLY_ENV=env\n",
		"app/.env.development":       "IN_ALL=development\n",
		"app/.env.local":             "IN_ALL=local\nLOCAL=local\n",
		"app/.env.development.local": "IN_ALL=development.local\n",
		".env":                       "NOT_IN_BASE=site\n",
	}
	shell := map[string]string{"FROM_SHELL": "shell", "UNRELATED": "x", "LOCAL": "shell-local"}
	lookup := func(k string) (string, bool) { v, ok := shell[k]; return v, ok }

	tests := []struct {
		name        string
		context     string
		files       map[string]string // replaces entries of files
		wantEnv     map[string]string
		wantSources map[string]string
		wantFiles   []string // relative to the site
	}{
		{
			name: "dev context and default env files",
			wantEnv: map[string]string{
				"FROM_BUILD":            "build",
				"OVERRIDDEN_BY_CONTEXT": "dev",
				"OVERRIDDEN_BY_FILE":    "env",
				"FROM_SHELL":            "shell",
				"NUMBER":                "42",
				"FLAG":                  "true",
				"IN_ALL":                "development.local",
				"ONLY_ENV":              "env",
				"LOCAL":                 "shell-local",
			},
			wantSources: map[string]string{
				"FROM_BUILD":            "netlify.toml [build.environment]",
				"OVERRIDDEN_BY_CONTEXT": "netlify.toml [context.dev.environment]",
				"OVERRIDDEN_BY_FILE":    ".env",
				"FROM_SHELL":            "shell",
				"NUMBER":                "netlify.toml [build.environment]",
				"FLAG":                  "netlify.toml [build.environment]",
				"IN_ALL":                ".env.development.local",
				"ONLY_ENV":              ".env",
				"LOCAL":                 "shell",
			},
			wantFiles: []string{"app/.env", "app/.env.development", "app/.env.local", "app/.env.development.local"},
		},
		{
			name:    "production context, inline environment table",
			context: "production",
			files:   map[string]string{"app/.env.development.local": "", "app/.env.local": "", "app/.env.development": ""},
			wantEnv: map[string]string{
				"FROM_BUILD":            "build",
				"OVERRIDDEN_BY_CONTEXT": "production",
				"ONLY_PROD":             "p",
				"OVERRIDDEN_BY_FILE":    "env",
				"FROM_SHELL":            "shell",
				"NUMBER":                "42",
				"FLAG":                  "true",
				"IN_ALL":                "env",
				"ONLY_ENV":              "env",
			},
			wantSources: map[string]string{
				"FROM_BUILD":            "netlify.toml [build.environment]",
				"OVERRIDDEN_BY_CONTEXT": "netlify.toml [context.production.environment]",
				"ONLY_PROD":             "netlify.toml [context.production.environment]",
				"OVERRIDDEN_BY_FILE":    ".env",
				"FROM_SHELL":            "shell",
				"NUMBER":                "netlify.toml [build.environment]",
				"FLAG":                  "netlify.toml [build.environment]",
				"IN_ALL":                ".env",
				"ONLY_ENV":              ".env",
			},
			wantFiles: []string{"app/.env", "app/.env.development", "app/.env.local", "app/.env.development.local"},
		},
		{
			name: "[dev] envFiles replaces the list, highest precedence first",
			files: map[string]string{
				"netlify.toml":   "[build]\nbase = \"app\"\n[dev]\nenvFiles = [\"custom.env\", \"../.env\", \"missing.env\"]\n",
				"app/custom.env": "IN_ALL=custom\n",
			},
			wantEnv: map[string]string{
				"IN_ALL":      "custom",
				"NOT_IN_BASE": "site",
			},
			wantSources: map[string]string{
				"IN_ALL":      "custom.env",
				"NOT_IN_BASE": "../.env",
			},
			wantFiles: []string{".env", "app/custom.env"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := maps.Clone(files)
			maps.Copy(fs, tt.files)
			site := writeSite(t, fs)
			cfg, err := Load(Options{Dir: site, Context: tt.context, LookupEnv: lookup})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(cfg.Env, tt.wantEnv) {
				t.Errorf("Env = %v\nwant %v", cfg.Env, tt.wantEnv)
			}
			if !maps.Equal(cfg.EnvSources, tt.wantSources) {
				t.Errorf("EnvSources = %v\nwant %v", cfg.EnvSources, tt.wantSources)
			}
			var want []string
			for _, f := range tt.wantFiles {
				want = append(want, filepath.Join(site, filepath.FromSlash(f)))
			}
			if !slices.Equal(cfg.EnvFiles, want) {
				t.Errorf("EnvFiles = %q\nwant %q", cfg.EnvFiles, want)
			}
			for _, f := range want {
				if !slices.Contains(cfg.WatchPaths, f) {
					t.Errorf("WatchPaths = %q, want %s in it", cfg.WatchPaths, f)
				}
			}
		})
	}
}

func TestLoadEnvWatchPaths(t *testing.T) {
	site := writeSite(t, nil)
	cfg := mustLoad(t, site)
	want := []string{filepath.Join(site, "netlify.toml")}
	for _, f := range []string{".env", ".env.development", ".env.local", ".env.development.local"} {
		want = append(want, filepath.Join(site, f))
	}
	if !slices.Equal(cfg.WatchPaths, want) {
		t.Errorf("WatchPaths = %q\nwant %q", cfg.WatchPaths, want)
	}
	if len(cfg.EnvFiles) != 0 || len(cfg.Env) != 0 {
		t.Errorf("EnvFiles = %q, Env has %d keys; want none", cfg.EnvFiles, len(cfg.Env))
	}
}

func TestLoadEnvErrors(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantFile string
		wantLine int
	}{
		{
			name:     "malformed .env.local",
			files:    map[string]string{".env.local": "OK=1\n\nTOKEN s3cr3t\n"},
			wantFile: ".env.local",
			wantLine: 3,
		},
		{
			name:     "in the base dir",
			files:    map[string]string{"netlify.toml": "[build]\nbase = \"app\"\n", "app/.env": "s3cr3t\n"},
			wantFile: filepath.Join("app", ".env"),
			wantLine: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeSite(t, tt.files)
			t.Chdir(site)
			_, err := Load(Options{LookupEnv: emptyEnv})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.File != tt.wantFile || pe.Line != tt.wantLine || pe.Msg != "expected KEY=value" {
				t.Errorf("err = %+v", pe)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("Error() = %q shows the value", err)
			}
		})
	}
}

func TestLoadEnvDirectoryIsSkipped(t *testing.T) {
	site := writeSite(t, map[string]string{".env/keep": "", ".env.local": "A=1\n"})
	cfg := mustLoad(t, site)
	if cfg.Env["A"] != "1" || len(cfg.EnvFiles) != 1 {
		t.Errorf("Env = %v, EnvFiles = %q", cfg.Env, cfg.EnvFiles)
	}
}
