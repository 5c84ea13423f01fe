package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// TestSmokeExitCodes checks the exit codes of bgfn smoke that need no
// runtime: a bad smoke file (2, with file:line and key) and a server that
// does not answer (3).
func TestSmokeExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("netlify.toml", "[build]\n  functions = \"functions\"\n")
	write("functions/hello.js", "exports.handler = async () => ({ statusCode: 200, body: 'hi' })\n")
	write("smoke.toml", "[[case]]\nfunction = \"hello\"\n[case.expect]\nstatuss = 200\n")
	write("good.toml", "[[case]]\nfunction = \"hello\"\n")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"bad smoke file", []string{"smoke", "--dir", dir}, exit.Usage, []string{
			"Error: " + filepath.Join(dir, "smoke.toml") + ":4: case.expect.statuss: unknown key (did you mean \"status\"?)\n",
			"  fix the smoke file and run bgfn smoke again",
		}},
		{"missing smoke file", []string{"smoke", "--dir", dir, filepath.Join(dir, "nope.toml")}, exit.Usage, []string{"nope.toml: cannot read the smoke file: no such file or directory"}},
		{"unreachable server", []string{"smoke", "--dir", dir, "--server", "http://127.0.0.1:1", filepath.Join(dir, "good.toml")}, exit.Unavailable, []string{"Error: reach http://127.0.0.1:1: "}},
		{"init refuses to overwrite", []string{"smoke", "--dir", dir, "--init"}, exit.Usage, []string{"smoke.toml exists: edit it, or use --force"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, errOut := ui.Test()
			root := NewRootCmd(&Factory{IOStreams: streams, Hurry: context.Background()})
			root.SetArgs(tt.args)
			root.SetOut(streams.Out)
			root.SetErr(streams.ErrOut)
			code := exit.OK
			if err := root.ExecuteContext(context.Background()); err != nil {
				code = reportError(streams, err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q lacks %q", errOut.String(), w)
				}
			}
		})
	}
}

func TestReportedError(t *testing.T) {
	streams, _, out, errOut := ui.Test()
	if code := reportError(streams, exit.Reported(exit.Failed)); code != exit.Failed {
		t.Errorf("code %d, want %d", code, exit.Failed)
	}
	if out.Len()+errOut.Len() > 0 {
		t.Errorf("printed %q %q, want nothing", out, errOut)
	}
}
