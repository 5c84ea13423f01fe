package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/events"
	"github.com/bgfn-dev/bgfn/internal/invoke"
)

// NewCmdTrigger builds `bgfn trigger`.
func NewCmdTrigger(f *Factory, runF func(context.Context, *invoke.TriggerOptions) error) *cobra.Command {
	opts := &invoke.TriggerOptions{Options: invoke.Options{Streams: f.IOStreams, Hurry: f.Hurry, Runtime: standalone}}
	var functions string
	cmd := &cobra.Command{
		Use:   "trigger EVENT",
		Short: "Send a Netlify platform event (deploy-succeeded, identity-signup…) to its functions",
		Long: `Send a Netlify platform event to every function that handles it, as Netlify
does: a POST with the x-netlify-event header and a realistic sample payload
(or --data). A function handles an event when it is named after it
(submission-created.js, deploy-succeeded-background.mjs) or when its v2 default
export is an object with the event's method (formSubmitted, deploySucceeded,
userSignup…); ` + "`bgfn list`" + ` shows which. --function sends it to one function.

Events: ` + wrapList(events.Names(), 72, "  ") + `.

Like bgfn invoke, it uses a running bgfn dev for the site when there is one,
else runs standalone. Responses go to stdout (an identity handler's user
JSON), status lines to stderr; background functions are followed to their end.

Exit codes (as bgfn invoke):
  0  every function answered 2xx or 3xx
  1  a function failed or answered >= 400 (a denied identity event is 401)
  2  usage error: unknown event, no function handles it, bad flag
  3  the runtime could not be reached or started`,
		Example: `  bgfn trigger deploy-succeeded
  bgfn trigger identity-signup --function auth-hooks
  bgfn trigger submission-created --data @captured-submission.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("bgfn trigger needs exactly one event (%s), got %d", strings.Join(events.Names(), ", "), len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Event = args[0]
			if err := prepareCall(cmd, f, &opts.Options, functions); err != nil {
				return err
			}
			defer opts.Printer.Flush()
			return runCall(cmd.Context(), opts, runF, invoke.Trigger)
		},
	}
	addCallFlags(cmd, &opts.Options, &functions, "the functions")
	fl := cmd.Flags()
	fl.StringVar(&opts.Function, "function", "", "send the event only to this function")
	fl.StringVarP(&opts.Data, "data", "d", "", "the event payload instead of the sample: JSON, @FILE to read a file, - for stdin")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per function (status, headers, body, duration, invocation id)")
	return cmd
}

// wrapList joins items with ", " in lines of at most width characters,
// each continuation line starting with indent.
func wrapList(items []string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, it := range items {
		if i > 0 {
			b.WriteString(",")
			line++
			if line+1+len(it) > width {
				b.WriteString("\n" + indent)
				line = len(indent)
			} else {
				b.WriteString(" ")
				line++
			}
		}
		b.WriteString(it)
		line += len(it)
	}
	return b.String()
}
