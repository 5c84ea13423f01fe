package site

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
)

func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func noEnv(string) (string, bool) { return "", false }

func TestLoad(t *testing.T) {
	tests := []struct {
		name         string
		files        map[string]string
		wantNames    []string
		wantKinds    map[string]discover.Kind
		wantWarnings []string // substrings, one per warning
	}{
		{
			name: "functions with settings from netlify.toml",
			files: map[string]string{
				"netlify.toml":           "[build]\nfunctions = \"fns\"\n[functions.\"job\"]\nbackground = true\n[functions.tick]\nschedule = \"@hourly\"\n",
				"fns/hello.js":           "exports.handler = async () => ({statusCode: 200})",
				"fns/job.js":             "exports.handler = async () => {}",
				"fns/tick.mjs":           "export default async () => {}",
				"fns/send-background.js": "exports.handler = async () => {}",
			},
			wantNames: []string{"hello", "job", "send-background", "tick"},
			wantKinds: map[string]discover.Kind{"hello": discover.KindSync, "job": discover.KindBackground, "send-background": discover.KindBackground, "tick": discover.KindScheduled},
		},
		{
			name:         "config and discovery warnings in one list",
			files:        map[string]string{"netlify.toml": "[build]\nfunctions = \"fns\"\nnope = 1\n", "fns/a.b.js": "exports.handler = () => 1"},
			wantNames:    []string{"a.b"},
			wantWarnings: []string{"nope"},
		},
		{
			name:         "a missing functions folder is a warning",
			files:        map[string]string{"netlify.toml": "[build]\nfunctions = \"missing\"\n"},
			wantWarnings: []string{"functions directory missing does not exist"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSite(t, tt.files)
			s, err := Load(config.Options{Dir: dir, LookupEnv: noEnv})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Names(); !slices.Equal(got, tt.wantNames) && !(len(got) == 0 && len(tt.wantNames) == 0) {
				t.Errorf("names = %v, want %v", got, tt.wantNames)
			}
			for name, k := range tt.wantKinds {
				if fn, ok := s.Function(name); !ok || fn.Kind != k {
					t.Errorf("%s: kind %q, want %q", name, fn.Kind, k)
				}
			}
			for _, w := range tt.wantWarnings {
				if !slices.ContainsFunc(s.Warnings, func(x string) bool { return strings.Contains(x, w) }) {
					t.Errorf("warnings %q lack %q", s.Warnings, w)
				}
			}
		})
	}
}

func TestOnlyAndPaths(t *testing.T) {
	dir := writeSite(t, map[string]string{"netlify/functions/a.js": "", "netlify/functions/b/index.js": ""})
	s, err := Load(config.Options{Dir: dir, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Function("b")
	if got := s.EntryPath(b); got != filepath.Join(dir, "netlify/functions/b/index.js") {
		t.Errorf("EntryPath = %s", got)
	}
	if got := s.Rel(s.EntryPath(b)); got != "netlify/functions/b/index.js" {
		t.Errorf("Rel = %s", got)
	}
	if got := s.Rel("/elsewhere/x"); got != "/elsewhere/x" {
		t.Errorf("Rel outside = %s", got)
	}
	s.Only("b")
	if got := s.Names(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after Only: %v", got)
	}
}

func TestWorkerEnv(t *testing.T) {
	t.Setenv("BGFN_TEST_SHELL", "shell")
	s := &Site{Config: &config.Config{Env: map[string]string{"SITE_VAR": "site", "URL": "ignored", "AWS_REGION": "eu-west-1"}}}
	env := s.WorkerEnv("http://127.0.0.1:1234")
	has := func(kv string) bool { return slices.Contains(env, kv) }
	for _, kv := range []string{"BGFN_TEST_SHELL=shell", "SITE_VAR=site", "URL=http://127.0.0.1:1234", "NETLIFY_DEV=true", "NETLIFY_LOCAL=true", "CONTEXT=dev", "AWS_REGION=eu-west-1", "TZ=UTC"} {
		if !has(kv) {
			t.Errorf("env lacks %s", kv)
		}
	}
	if !slices.IsSorted(env) {
		t.Error("env is not sorted")
	}
	if d := s.WorkerEnv("http://x"); has("AWS_REGION=us-east-1") || !slices.Contains(d, "URL=http://x") {
		t.Errorf("second env: %v", d)
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadState(dir); !os.IsNotExist(err) {
		t.Fatalf("ReadState of no file: %v", err)
	}
	want := State{URL: "http://127.0.0.1:9", PID: 42, Site: dir, StartedAt: time.Unix(1700000000, 0).UTC()}
	if err := WriteState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(dir)
	if err != nil || got != want {
		t.Errorf("ReadState = %+v, %v; want %+v", got, err, want)
	}
	os.WriteFile(StatePath(dir), []byte("{"), 0o644)
	if _, err := ReadState(dir); err == nil || !strings.Contains(err.Error(), "dev.json") {
		t.Errorf("torn state file: %v", err)
	}
	RemoveState(dir)
	if _, err := os.Stat(StatePath(dir)); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}
}
