package invoke

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/events"
	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/site"
)

func triggerSite() *site.Site {
	return &site.Site{
		Config: &config.Config{FunctionsDir: "functions"},
		Functions: []discover.Function{
			{Name: "deploy-succeeded-background"},
			{Name: "hello"},
			{Name: "hooks", Handlers: []string{"deploySucceeded", "userSignup", "fetch"}},
			{Name: "submission-created"},
		},
	}
}

func TestTriggerTargets(t *testing.T) {
	tests := []struct {
		event, only string
		want        []string
		err         string
	}{
		{event: "deploy-succeeded", want: []string{"deploy-succeeded-background", "hooks"}},
		{event: "identity-signup", want: []string{"hooks"}},
		{event: "submission-created", want: []string{"submission-created"}},
		{event: "submission-created", only: "hello", want: []string{"hello"}},
		{event: "deploy-failed", err: "no function of the site handles deploy-failed: name a function deploy-failed.mjs (or deploy-failed-background.mjs), or give a v2 function `export default { deployFailed(event) { … } }`"},
		{event: "deploy-failed", only: "helo", err: `no function "helo": did you mean "hello"?`},
	}
	for _, tt := range tests {
		t.Run(tt.event+"/"+tt.only, func(t *testing.T) {
			ev, _ := events.Lookup(tt.event)
			fns, err := triggerTargets(triggerSite(), ev, tt.only)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			var names []string
			for _, fn := range fns {
				names = append(names, fn.Name)
			}
			if err != nil || !slices.Equal(names, tt.want) {
				t.Fatalf("targets = %v, %v; want %v", names, err, tt.want)
			}
		})
	}
}

func TestResolveEvent(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "deploy-succeeded", want: "deploy-succeeded"},
		{in: "identity_signup", want: "identity-signup"},
		{in: "formSubmitted", want: "submission-created"},
		{in: "hooks", err: "\"hooks\" is a function, not a platform event: call it with `bgfn invoke hooks`"},
		{in: "deploy-succeded", err: `unknown platform event "deploy-succeded": use one of deploy-building,`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ev, err := resolveEvent(triggerSite(), tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || ev.Name != tt.want {
				t.Fatalf("resolveEvent = %v, %v; want %s", ev.Name, err, tt.want)
			}
		})
	}
}

func TestWorseOf(t *testing.T) {
	failed, usage, down := exit.With(exit.Failed, errors.New("f")), exit.With(exit.Usage, errors.New("u")), exit.With(exit.Unavailable, errors.New("d"))
	tests := []struct {
		a, b, want error
	}{
		{nil, failed, failed},
		{failed, usage, usage},
		{usage, failed, usage},
		{down, usage, down},
		{failed, errors.New("plain"), failed},
	}
	for i, tt := range tests {
		if got := worseOf(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: worseOf = %v, want %v", i, got, tt.want)
		}
	}
}
