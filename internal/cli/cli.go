// Package cli holds bgfn's cobra commands. It is the only package that sees
// os.Args, exit codes and signals: each command binds flags to an Options
// struct and calls a run function that knows nothing of cobra.
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
	"github.com/bgfn-dev/bgfn/internal/invoke"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitUnavailable = 3
	ExitInterrupted = 130
)

// usageError marks errors in how bgfn was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// globalOptions are the flags every command has.
type globalOptions struct {
	Dir   string
	Color string
}

// Main runs bgfn with args (without the program name) and returns the exit
// code.
func Main(args []string, streams *ui.IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second Ctrl-C skips the grace period: hurry is cancelled then.
	hurry, hurryNow := context.WithCancel(context.Background())
	defer hurryNow()
	go func() {
		<-ctx.Done()
		stop()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case <-sig:
			hurryNow()
		case <-hurry.Done():
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

	root := NewRootCmd(streams, hurry)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	return reportError(streams, err)
}

// reportError prints err as one clear line (and a hint where one helps)
// and returns the exit code it calls for.
func reportError(streams *ui.IOStreams, err error) int {
	st := ui.NewStyles(streams.ErrOut, streams.ColorErr())
	code := ExitError
	hint := ""
	var pe *config.ParseError
	var le *dev.ListenError
	var ue *usageError
	var nm *dev.NodeMissingError
	var ie *invoke.Error
	switch {
	case errors.As(err, &ie):
		code = ie.Code
		if code == invoke.ExitUnreachable {
			hint = "is bgfn dev running? start it, or use --standalone"
		}
	case errors.As(err, &pe):
		code = ExitUsage
		hint = "fix the file and run the command again"
	case errors.As(err, &le):
		if le.InUse() {
			hint = "another process uses that port: stop it, pick another with --port, or run `bgfn dev --port 0` to pick a free port"
		}
	case errors.As(err, &ue):
		code = ExitUsage
	case errors.As(err, &nm):
		code = ExitUnavailable
	}
	msg := err.Error()
	fmt.Fprintln(streams.ErrOut, st.Render(st.Failure, "Error: ")+msg)
	if hint != "" {
		fmt.Fprintln(streams.ErrOut, st.Render(st.Dim, "  "+hint))
	}
	return code
}

// NewRootCmd builds the command tree.
func NewRootCmd(streams *ui.IOStreams, hurry context.Context) *cobra.Command {
	g := &globalOptions{}
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
			m, err := ui.ParseColorMode(g.Color)
			if err != nil {
				return &usageError{err}
			}
			streams.SetColorMode(m)
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (see `%s --help`)", err, cmd.CommandPath())}
	})
	root.PersistentFlags().StringVar(&g.Dir, "dir", "", "site folder holding netlify.toml (default: the current folder)")
	root.PersistentFlags().StringVar(&g.Color, "color", "auto", "colour output: auto, always or never (NO_COLOR is honoured)")
	root.AddCommand(
		NewCmdDev(streams, g, hurry, nil),
		NewCmdList(streams, g, nil),
		NewCmdInvoke(streams, g, hurry, nil),
		NewCmdReplay(streams, g, nil),
		NewCmdBlobs(streams, g, nil),
		NewCmdVersion(streams),
	)
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	return root
}

func argsError(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))}
	}
	return nil
}
