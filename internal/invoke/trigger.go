package invoke

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/blobs"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/events"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// TriggerOptions are the flags of `bgfn trigger`: those of invoke that
// apply, the event, and the function to send it to.
type TriggerOptions struct {
	Options
	// Event is the platform event: deploy-succeeded, submission-created,
	// identity-signup… (its slug or method name work too).
	Event string
	// Function, when set, is the only function the event goes to.
	Function string
}

// Trigger sends a Netlify platform event to every function that handles
// it (or to --function): a POST with the x-netlify-event header and the
// event's sample payload (or --data), through a running server or
// standalone, as Run calls a function. Background functions are followed
// to their end. The exit code is the worst of the calls'.
func Trigger(ctx context.Context, opts TriggerOptions) error {
	s, err := site.Load(opts.Config)
	if err != nil {
		return err
	}
	ev, err := resolveEvent(s, opts.Event)
	if err != nil {
		return exit.With(exit.Usage, err)
	}
	var data []byte
	if opts.DataSet {
		if data, err = readData(opts.Options); err != nil {
			return exit.With(exit.Usage, err)
		}
	}
	targets, err := triggerTargets(s, ev, opts.Function)
	if err != nil {
		return exit.With(exit.Usage, err)
	}
	sample := func(base string) []byte {
		if opts.DataSet {
			return data
		}
		info := events.Site{ID: blobs.SiteID(s.Config.BaseDir), Name: filepath.Base(s.Config.SiteDir), URL: base}
		return events.Sample(ev, info, time.Now())
	}
	var worst error
	out := &lineEnder{w: opts.Streams.Out}
	streams := *opts.Streams
	streams.Out = out
	for _, fn := range targets {
		o := opts.Options
		o.Streams = &streams
		o.Name = fn.Name
		o.Method, o.MethodSet = "POST", true
		o.Headers = append(append([]string(nil), o.Headers...), "x-netlify-event: "+ev.Slug)
		// An event's outcome is the function's: follow a background one.
		o.Wait = true
		if len(targets) > 1 {
			opts.Printer.Dim("→ " + ev.Name + " to " + fn.Name)
		}
		if err := runFunction(ctx, o, s, fn, sample); err != nil {
			worst = worseOf(worst, err)
		}
		out.end()
	}
	return worst
}

// lineEnder ends what each function's answer wrote with a newline, so the
// bodies of several functions do not run together.
type lineEnder struct {
	w    io.Writer
	last byte
}

func (l *lineEnder) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.last = p[len(p)-1]
	}
	return l.w.Write(p)
}

func (l *lineEnder) end() {
	if l.last != 0 && l.last != '\n' {
		l.w.Write([]byte{'\n'})
	}
	l.last = 0
}

// resolveEvent finds the event name, and says what to do when it names a
// function or nothing.
func resolveEvent(s *site.Site, name string) (events.Event, error) {
	if ev, ok := events.Lookup(name); ok {
		return ev, nil
	}
	if _, ok := s.Function(name); ok {
		return events.Event{}, fmt.Errorf("%q is a function, not a platform event: call it with `bgfn invoke %s`, or give an event (%s)", name, name, strings.Join(events.Names(), ", "))
	}
	return events.Event{}, fmt.Errorf("unknown platform event %q: use one of %s", name, strings.Join(events.Names(), ", "))
}

// triggerTargets are the functions ev goes to: only, when given (whether or
// not bgfn sees that it handles ev: a handler object built at run time
// still gets it), else every function that handles it.
func triggerTargets(s *site.Site, ev events.Event, only string) ([]discover.Function, error) {
	if only != "" {
		fn, ok := s.Function(only)
		if !ok {
			return nil, unknownFunction(only, s.Functions, s.Config)
		}
		return []discover.Function{fn}, nil
	}
	var out []discover.Function
	for _, fn := range s.Functions {
		if events.Handles(fn, ev) {
			out = append(out, fn)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no function of the site handles %s: name a function %s.mjs (or %s-background.mjs), or give a v2 function `export default { %s(event) { … } }`; or send it to one function with --function NAME",
			ev.Name, ev.Name, ev.Name, ev.Method)
	}
	return out, nil
}

// worseOf keeps the error with the higher exit code: unavailable (3) over
// usage (2) over a failed function (1).
func worseOf(a, b error) error {
	if a == nil || exit.Code(b) > exit.Code(a) {
		return b
	}
	return a
}
