package mcp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/blobs"
	"github.com/bgfn-dev/bgfn/internal/events"
)

// --- trigger_event

type triggerIn struct {
	Event       string `json:"event" jsonschema:"the platform event: deploy-building, deploy-succeeded, deploy-failed, deploy-deleted, deploy-locked, deploy-unlocked, submission-created, identity-login, identity-signup, identity-validate, identity-usermodified or identity-userdeleted"`
	Function    string `json:"function,omitempty" jsonschema:"send the event only to this function; default: every function whose events (list_functions) include it"`
	Body        string `json:"body,omitempty" jsonschema:"the event payload as JSON, instead of bgfn's realistic sample; sent as given, so an invalid payload gets Netlify's 400"`
	WaitTimeout string `json:"wait_timeout,omitempty" jsonschema:"how long to wait for a background function to end, as a Go duration (default 5m, at most 30m)"`
}

type triggerOut struct {
	Event   string      `json:"event"`
	Slug    string      `json:"slug" jsonschema:"the x-netlify-event header sent"`
	Results []invokeOut `json:"results" jsonschema:"what each function answered, in name order"`
}

// triggerEvent sends a platform event as bgfn trigger does: a POST with
// x-netlify-event and the sample payload (or body) to each function that
// handles it, waiting for background ones.
func (b *bgfn) triggerEvent(ctx context.Context, c *apiclient.Client, in triggerIn) (triggerOut, string, error) {
	ev, ok := events.Lookup(in.Event)
	if !ok {
		return triggerOut{}, "", badArg("event", "unknown platform event %q: use one of %s", in.Event, strings.Join(events.Names(), ", "))
	}
	if _, err := parseWait("wait_timeout", in.WaitTimeout, 5*time.Minute, 30*time.Minute); err != nil {
		return triggerOut{}, "", err
	}
	targets, err := b.eventTargets(ctx, c, ev, in.Function)
	if err != nil {
		return triggerOut{}, "", err
	}
	body := in.Body
	if body == "" {
		cfg, err := c.Config(ctx)
		if err != nil {
			return triggerOut{}, "", err
		}
		site := events.Site{ID: blobs.SiteID(cfg.BaseDir), Name: filepath.Base(cfg.Site), URL: c.Base}
		body = string(events.Sample(ev, site, time.Now()))
	}
	out := triggerOut{Event: ev.Name, Slug: ev.Slug}
	var t strings.Builder
	for _, name := range targets {
		res, text, err := b.invokeFunction(ctx, c, invokeIn{
			Name: name, Method: "POST", Headers: map[string]string{"x-netlify-event": ev.Slug},
			Body: body, Wait: true, WaitTimeout: in.WaitTimeout,
		})
		if err != nil {
			return out, "", err
		}
		out.Results = append(out.Results, res)
		fmt.Fprintf(&t, "%s to %s:\n%s\n\n", ev.Name, name, text)
	}
	return out, strings.TrimSuffix(t.String(), "\n\n"), nil
}

// eventTargets names the functions ev goes to: only, or every function
// that handles it.
func (b *bgfn) eventTargets(ctx context.Context, c *apiclient.Client, ev events.Event, only string) ([]string, error) {
	if only != "" {
		fn, err := b.function(ctx, c, only)
		var ae *argError
		if errors.As(err, &ae) {
			return nil, badArg("function", "%s", ae.why)
		}
		if err != nil {
			return nil, err
		}
		return []string{fn.Name}, nil
	}
	fns, err := c.Functions(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range fns {
		if handles(f, ev) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return nil, badArg("event", "no function handles %s: name a function %s.mjs, or give a v2 function `export default { %s(event) { … } }`, or pass function to send it to one", ev.Name, ev.Name, ev.Method)
	}
	return names, nil
}

func handles(f api.Function, ev events.Event) bool { return slices.Contains(f.Events, ev.Name) }
