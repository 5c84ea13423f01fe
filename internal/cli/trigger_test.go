package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/invoke"
)

func TestNewCmdTriggerFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o *invoke.TriggerOptions)
	}{
		{"defaults", []string{"deploy-succeeded"}, func(t *testing.T, o *invoke.TriggerOptions) {
			if o.Event != "deploy-succeeded" || o.Function != "" || o.DataSet || o.Timeout != 60*time.Second || o.Runtime == nil || o.Printer == nil {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{"every flag", []string{"identity-signup", "--function", "hooks", "-d", "@u.json", "-H", "A: 1", "--timeout", "3s", "--port", "8888",
			"--standalone", "--json", "-v", "--retry-scale", "0", "--no-retries", "--background-timeout", "2m", "--init-timeout", "4s", "--functions", "fns"},
			func(t *testing.T, o *invoke.TriggerOptions) {
				if o.Event != "identity-signup" || o.Function != "hooks" || o.Data != "@u.json" || !o.DataSet || len(o.Headers) != 1 ||
					o.Timeout != 3*time.Second || o.Port != 8888 || !o.Standalone || !o.JSON || !o.Verbose || o.RetryScale != 0 || !o.NoRetries ||
					o.BackgroundTimeout != 2*time.Minute || o.InitTimeout != 4*time.Second || o.Config.FunctionsDir != "fns" {
					t.Errorf("options = %+v", o)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, parsedOptions(t, NewCmdTrigger, tt.args))
		})
	}
}

func TestWrapList(t *testing.T) {
	tests := []struct {
		items []string
		width int
		want  string
	}{
		{nil, 10, ""},
		{[]string{"a"}, 10, "a"},
		{[]string{"aaa", "bbb", "ccc"}, 10, "aaa, bbb,\n  ccc"},
		{[]string{"aaa", "bbb"}, 80, "aaa, bbb"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.items, ","), func(t *testing.T) {
			if got := wrapList(tt.items, tt.width, "  "); got != tt.want {
				t.Errorf("wrapList = %q, want %q", got, tt.want)
			}
		})
	}
}
