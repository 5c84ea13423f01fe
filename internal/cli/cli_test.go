package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/invoke"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

func testFactory() (*Factory, *ui.IOStreams) {
	streams, _, _, _ := ui.Test()
	return &Factory{IOStreams: streams, Hurry: context.Background()}, streams
}

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
		{[]string{"dev", "--init-timeout", "0s"}, "--init-timeout"},
		{[]string{"dev", "extra"}, "takes no arguments"},
		{[]string{"dev", "--no-such-flag"}, "unknown flag"},
		{[]string{"invoke"}, "exactly one function name"},
		{[]string{"invoke", "a", "--standalone", "--server", "http://x"}, "cannot be used together"},
		{[]string{"replay"}, "exactly one invocation id"},
		{[]string{"cancel"}, "bgfn cancel needs exactly one invocation id"},
		{[]string{"retry", "a", "b"}, "bgfn retry needs exactly one invocation id"},
		{[]string{"runs", "--status", "done"}, `invalid --status "done"`},
		{[]string{"runs", "--limit", "-1"}, "invalid --limit -1"},
		{[]string{"runs", "extra"}, "takes no arguments"},
		{[]string{"logs", "a", "b"}, "at most one invocation id"},
		{[]string{"logs", "a", "--function", "f"}, "not both"},
		{[]string{"dev", "--allowed-host", "a b"}, `invalid --allowed-host "a b"`},
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
			root := NewRootCmd(&Factory{IOStreams: streams, Hurry: context.Background()})
			root.SetArgs(tt.args)
			root.SetOut(streams.Out)
			root.SetErr(streams.ErrOut)
			err := root.ExecuteContext(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if code := exit.Code(err); code != exit.Usage {
				t.Fatalf("error %v has exit code %d, want %d", err, code, exit.Usage)
			}
			if code := reportError(streams, err); code != exit.Usage {
				t.Errorf("exit code %d, want %d", code, exit.Usage)
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
	root := NewRootCmd(&Factory{IOStreams: streams, Hurry: context.Background()})
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "bgfn ") {
		t.Errorf("version output %q", out.String())
	}
}

func TestNewCmdDevFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o *DevOptions)
	}{
		{"defaults", nil, func(t *testing.T, o *DevOptions) {
			if o.Host != "127.0.0.1" || o.Port != -1 || o.Timeout != 60*time.Second || o.BackgroundTimeout != 15*time.Minute ||
				o.InitTimeout != 10*time.Second || o.ShutdownTimeout != 10*time.Second || o.RetryScale != 1 || o.Records != 1000 {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{"every flag", []string{"--functions", "fns", "--host", "0.0.0.0", "--port", "0", "--timeout", "5s", "--background-timeout", "1m",
			"--init-timeout", "2s", "--max-workers", "3", "--no-limits", "--shutdown-timeout", "1s", "--retry-scale", "0.01",
			"--no-retries", "--records", "50", "--poll", "--no-watch", "--cron-now", "--scheduled-timeout", "9s", "--allowed-host", "a.test,b.test:80"},
			func(t *testing.T, o *DevOptions) {
				if o.Functions != "fns" || o.Host != "0.0.0.0" || o.Port != 0 || o.Timeout != 5*time.Second || o.BackgroundTimeout != time.Minute ||
					o.InitTimeout != 2*time.Second || o.MaxConcurrency != 3 || !o.NoLimits || o.ShutdownTimeout != time.Second ||
					o.RetryScale != 0.01 || !o.NoRetries || o.Records != 50 || !o.Poll || !o.NoWatch || !o.CronNow || o.ScheduledTimeout != 9*time.Second ||
					len(o.AllowedHosts) != 2 || o.AllowedHosts[1] != "b.test:80" {
					t.Errorf("options = %+v", o)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFactory()
			var got *DevOptions
			cmd := NewCmdDev(f, func(_ context.Context, o *DevOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			if err := cmd.ExecuteContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("run function not called")
			}
			tt.check(t, got)
		})
	}
}

func TestNewCmdInvokeFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o *invoke.Options)
	}{
		{"defaults", []string{"hello"}, func(t *testing.T, o *invoke.Options) {
			if o.Name != "hello" || o.Method != "POST" || o.MethodSet || o.DataSet || o.Timeout != 60*time.Second || o.Runtime == nil || o.Printer == nil {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{"every flag", []string{"hello", "-d", "@x.json", "-X", "put", "-H", "A: 1", "-H", "B: 2", "-q", "a=1", "--path", "/p?x=1",
			"--identity", "--timeout", "3s", "--port", "8888", "--standalone", "--json", "-v", "--wait", "--retry-scale", "0",
			"--no-retries", "--background-timeout", "2m", "--init-timeout", "4s", "--functions", "fns"},
			func(t *testing.T, o *invoke.Options) {
				if o.Data != "@x.json" || !o.DataSet || o.Method != "put" || !o.MethodSet || len(o.Headers) != 2 || o.Query != "a=1" ||
					o.Path != "/p?x=1" || !o.Identity || o.Timeout != 3*time.Second || o.Port != 8888 || !o.Standalone || !o.JSON ||
					!o.Verbose || !o.Wait || o.RetryScale != 0 || !o.NoRetries || o.BackgroundTimeout != 2*time.Minute ||
					o.InitTimeout != 4*time.Second || o.Config.FunctionsDir != "fns" {
					t.Errorf("options = %+v", o)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, parsedOptions(t, NewCmdInvoke, tt.args))
		})
	}
}

// parsedOptions runs the command newCmd builds with args and returns the
// options its run function was called with.
func parsedOptions[O any](t *testing.T, newCmd func(*Factory, func(context.Context, *O) error) *cobra.Command, args []string) *O {
	t.Helper()
	f, _ := testFactory()
	var got *O
	cmd := newCmd(f, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("run function not called")
	}
	return got
}

func TestNewCmdListAndReplayFlags(t *testing.T) {
	f, _ := testFactory()
	var lo *ListOptions
	list := NewCmdList(f, func(_ context.Context, o *ListOptions) error { lo = o; return nil })
	list.SetArgs([]string{"--json", "--port", "8000", "--functions", "fns"})
	if err := list.ExecuteContext(context.Background()); err != nil || lo == nil || !lo.JSON || lo.Port != 8000 || lo.Functions != "fns" {
		t.Errorf("list: err %v, options %+v", err, lo)
	}
	var ro *ReplayOptions
	replay := NewCmdReplay(f, func(_ context.Context, o *ReplayOptions) error { ro = o; return nil })
	replay.SetArgs([]string{"0123", "--data", "x", "--server", "http://127.0.0.1:1"})
	if err := replay.ExecuteContext(context.Background()); err != nil || ro == nil || ro.ID != "0123" || ro.Data != "x" || !ro.DataSet || ro.Server != "http://127.0.0.1:1" {
		t.Errorf("replay: err %v, options %+v", err, ro)
	}
}

func TestNewCmdSmokeFlags(t *testing.T) {
	f, _ := testFactory()
	var got *SmokeOptions
	cmd := NewCmdSmoke(f, func(_ context.Context, o *SmokeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.toml", "b.toml", "--parallel", "3", "--timeout", "9s", "--junit", "r.xml", "--json", "--server", "http://x",
		"--port", "8000", "-v", "--retry-scale", "0", "--no-retries", "--background-timeout", "1m", "--functions", "fns"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got.Files) != 2 || got.Parallel != 3 || got.Timeout != 9*time.Second || got.JUnit != "r.xml" || !got.JSON ||
		got.Server != "http://x" || got.Port != 8000 || !got.Verbose || got.RetryScale != 0 || !got.NoRetries ||
		got.BackgroundTimeout != time.Minute || got.Functions != "fns" || len(got.RuntimeFlags) != 3 {
		t.Errorf("options = %+v", got)
	}
}

// executable is what the flag tests need of a command.
type executable interface {
	SetArgs([]string)
	ExecuteContext(context.Context) error
}

// The flags of bgfn runs, logs, cancel and retry bind to their options.
func TestNewCmdRunsFlags(t *testing.T) {
	tests := []struct {
		name  string
		cmd   func(f *Factory, got *any) executable
		args  []string
		check func(t *testing.T, o any)
	}{
		{"runs defaults", func(f *Factory, got *any) executable {
			return NewCmdRuns(f, func(_ context.Context, o *RunsOptions) error { *got = o; return nil })
		}, nil, func(t *testing.T, o any) {
			if r := o.(*RunsOptions); r.Limit != 50 || r.JSON || r.Function != "" || r.Status != "" || r.Server != "" {
				t.Errorf("defaults = %+v", r)
			}
		}},
		{"runs every flag", func(f *Factory, got *any) executable {
			return NewCmdRuns(f, func(_ context.Context, o *RunsOptions) error { *got = o; return nil })
		}, []string{"--function", "f", "--status", "cancelled", "--limit", "0", "--json", "--server", "http://x"}, func(t *testing.T, o any) {
			if r := o.(*RunsOptions); r.Limit != 0 || !r.JSON || r.Function != "f" || r.Status != "cancelled" || r.Server != "http://x" {
				t.Errorf("options = %+v", r)
			}
		}},
		{"logs", func(f *Factory, got *any) executable {
			return NewCmdLogs(f, func(_ context.Context, o *LogsOptions) error { *got = o; return nil })
		}, []string{"0123", "-f", "--server", "http://x"}, func(t *testing.T, o any) {
			if l := o.(*LogsOptions); l.ID != "0123" || !l.Follow || l.Server != "http://x" || l.Function != "" {
				t.Errorf("options = %+v", l)
			}
		}},
		{"logs --function", func(f *Factory, got *any) executable {
			return NewCmdLogs(f, func(_ context.Context, o *LogsOptions) error { *got = o; return nil })
		}, []string{"--function", "hello"}, func(t *testing.T, o any) {
			if l := o.(*LogsOptions); l.ID != "" || l.Follow || l.Function != "hello" {
				t.Errorf("options = %+v", l)
			}
		}},
		{"cancel", func(f *Factory, got *any) executable {
			return NewCmdCancel(f, func(_ context.Context, o *ControlOptions) error { *got = o; return nil })
		}, []string{"0123", "--json", "--server", "http://x"}, func(t *testing.T, o any) {
			if c := o.(*ControlOptions); c.ID != "0123" || !c.JSON || c.Server != "http://x" {
				t.Errorf("options = %+v", c)
			}
		}},
		{"retry", func(f *Factory, got *any) executable {
			return NewCmdRetry(f, func(_ context.Context, o *ControlOptions) error { *got = o; return nil })
		}, []string{"0123"}, func(t *testing.T, o any) {
			if c := o.(*ControlOptions); c.ID != "0123" || c.JSON || c.Server != "" {
				t.Errorf("options = %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFactory()
			var got any
			cmd := tt.cmd(f, &got)
			cmd.SetArgs(tt.args)
			if err := cmd.ExecuteContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("run function not called")
			}
			tt.check(t, got)
		})
	}
}
