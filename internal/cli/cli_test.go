package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

// TestUsageErrors checks that bad flags and arguments fail before any work
// with exit code 2 and a message naming what was wrong.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"dev", "--port", "70000"}, "--port 70000"},
		{[]string{"dev", "--retry-scale", "-1"}, "--retry-scale"},
		{[]string{"dev", "--timeout", "0s"}, "--timeout"},
		{[]string{"dev", "extra"}, "takes no arguments"},
		{[]string{"dev", "--no-such-flag"}, "unknown flag"},
		{[]string{"invoke"}, "exactly one function name"},
		{[]string{"invoke", "a", "--standalone", "--server", "http://x"}, "cannot be used together"},
		{[]string{"replay"}, "exactly one invocation id"},
		{[]string{"list", "--color", "sometimes"}, "--color"},
		{[]string{"smoke", "--parallel", "0"}, "--parallel 0"},
		{[]string{"smoke", "--retry-scale", "-1"}, "--retry-scale"},
		{[]string{"smoke", "--timeout", "0s"}, "--timeout"},
		{[]string{"smoke", "--standalone", "--server", "http://x"}, "cannot be used together"},
		{[]string{"smoke", "--init", "a.toml", "b.toml"}, "--init writes one file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			streams, _, _, errOut := ui.Test()
			root := NewRootCmd(streams, context.Background())
			root.SetArgs(tt.args)
			root.SetOut(streams.Out)
			root.SetErr(streams.ErrOut)
			err := root.ExecuteContext(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v (%T) is not a usage error", err, err)
			}
			if code := reportError(streams, err); code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.want)
			}
			if n := strings.Count(strings.TrimSpace(errOut.String()), "\n"); n > 1 {
				t.Errorf("stderr has %d lines, want a one-line error (and at most a hint): %q", n+1, errOut.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	streams, _, out, _ := ui.Test()
	root := NewRootCmd(streams, context.Background())
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "bgfn ") {
		t.Errorf("version output %q", out.String())
	}
}
