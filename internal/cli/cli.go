// Package cli holds bgfn's cobra commands. It is the only package that sees
// os.Args, exit codes and signals: each command binds flags to an Options
// struct and calls a run function that knows nothing of cobra. Commands get
// what they need from a Factory, as the GitHub CLI's commands do.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/dev"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/smoke"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// usageError marks errors in how bgfn was called (exit 2).
func usageError(err error) error { return exit.With(exit.Usage, err) }

// Factory is what every command is made with.
type Factory struct {
	IOStreams *ui.IOStreams
	// Hurry is cancelled by a second Ctrl-C: stop waiting, kill now.
	Hurry context.Context
	// Dir and Color are the global flags.
	Dir   string
	Color string
}

// Printer returns a printer for the command's human lines (stderr).
func (f *Factory) Printer() *logs.Printer {
	return logs.NewPrinter(f.IOStreams.ErrOut, f.IOStreams.ColorErr())
}

// ConfigOptions are the options every command loads the site with.
func (f *Factory) ConfigOptions(functions string) config.Options {
	return config.Options{Dir: f.Dir, FunctionsDir: functions}
}

// Main runs bgfn with args (without the program name) and returns the exit
// code.
func Main(args []string, streams *ui.IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second Ctrl-C skips the grace period: hurry is cancelled then. sig
	// hears every signal from the start, the first one too. Registering it
	// only after the first (and after stop) left a moment with no handler,
	// in which a second Ctrl-C killed bgfn with the default action instead
	// of hurrying it (init_shutdown.txtar failed so under -race). It stays
	// registered until the process exits, for the same reason: a Ctrl-C
	// that lands after Main returns is ignored, not fatal.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	hurry, hurryNow := context.WithCancel(context.Background())
	defer hurryNow()
	go func() {
		for first := true; ; first = false {
			select {
			case <-sig:
				if !first {
					hurryNow()
					return
				}
			case <-hurry.Done():
				return
			}
		}
	}()

	// BGFN_CPUPROFILE=FILE writes a Go CPU profile of the whole run, for
	// finding what bounds the benchmark figures (see bench/README.md).
	if path := os.Getenv("BGFN_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() {
					pprof.StopCPUProfile()
					f.Close()
				}()
			}
		}
	}

	root := NewRootCmd(&Factory{IOStreams: streams, Hurry: hurry})
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exit.OK
	}
	return reportError(streams, err)
}

// reportError prints err as one clear line (and a hint where one helps)
// and returns the exit code it calls for.
func reportError(streams *ui.IOStreams, err error) int {
	code := exit.Code(err)
	if errors.Is(err, exit.ErrReported) {
		return code
	}
	hint := ""
	var pe *config.ParseError
	var le *dev.ListenError
	var nm *dev.NodeMissingError
	var fe *smoke.FileError
	switch {
	case errors.As(err, &pe):
		code = exit.Usage
		hint = "fix the file and run the command again"
	case errors.As(err, &le):
		if le.InUse() {
			hint = "another process uses that port: stop it, pick another with --port, or run `bgfn dev --port 0` to pick a free port"
		}
	case errors.As(err, &fe):
		code = exit.Usage
		hint = "fix the smoke file and run bgfn smoke again (the keys: bgfn smoke --help)"
	case errors.As(err, &nm):
		code = exit.Unavailable
	case code == exit.Unavailable:
		hint = "is bgfn dev running? start it, or use --standalone"
	}
	logs.ErrorLine(streams.ErrOut, streams.ColorErr(), err.Error(), hint)
	return code
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "bgfn",
		Short: "Run Netlify Functions locally, background functions first",
		Long: `bgfn emulates Netlify Functions on your machine and in CI: it builds every
function in your site's functions folder, runs each in warm worker processes,
and serves them at /.netlify/functions/NAME. Background functions (*-background)
answer 202 at once and run on for up to 15 minutes.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			m, err := ui.ParseColorMode(f.Color)
			if err != nil {
				return usageError(err)
			}
			f.IOStreams.SetColorMode(m)
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w (see `%s --help`)", err, cmd.CommandPath()))
	})
	root.PersistentFlags().StringVar(&f.Dir, "dir", "", "site folder holding netlify.toml (default: the current folder)")
	root.PersistentFlags().StringVar(&f.Color, "color", "auto", "colour output: auto, always or never (NO_COLOR is honoured)")
	root.AddCommand(
		NewCmdDev(f, nil),
		NewCmdList(f, nil),
		NewCmdInvoke(f, nil),
		NewCmdTrigger(f, nil),
		NewCmdReplay(f, nil),
		NewCmdRuns(f, nil),
		NewCmdLogs(f, nil),
		NewCmdCancel(f, nil),
		NewCmdRetry(f, nil),
		NewCmdSmoke(f, nil),
		NewCmdBlobs(f, nil),
		NewCmdMCP(f, nil),
		NewCmdVersion(f),
	)
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	return root
}

func argsError(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " ")))
	}
	return nil
}
