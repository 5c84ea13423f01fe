package events

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/discover"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		ok     bool
		family Family
	}{
		{"deploy-succeeded", "deploy-succeeded", true, Deploy},
		{"deploy_succeeded", "deploy-succeeded", true, Deploy},
		{"deploySucceeded", "deploy-succeeded", true, Deploy},
		{"submission-created", "submission-created", true, Form},
		{"formSubmitted", "submission-created", true, Form},
		{"identity-signup", "identity-signup", true, Identity},
		{"identity_usermodified", "identity-usermodified", true, Identity},
		{"userDeleted", "identity-userdeleted", true, Identity},
		{"fetch", "", false, ""},
		{"split-test-activated", "", false, ""},
		{"hello", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, ok := Lookup(tt.in)
			if ok != tt.ok || e.Name != tt.name || e.Family != tt.family {
				t.Errorf("Lookup(%q) = %+v, %v; want %s (%s), %v", tt.in, e, ok, tt.name, tt.family, tt.ok)
			}
		})
	}
}

// TestCatalogue checks the table against Netlify's runtime: twelve events,
// slugs and methods unique, identity events but userDeleted deniable.
func TestCatalogue(t *testing.T) {
	if len(All) != 12 {
		t.Fatalf("%d events, want Netlify's 12", len(All))
	}
	seen := map[string]bool{}
	for _, e := range All {
		for _, k := range []string{e.Name, e.Slug, e.Method} {
			if seen[k] {
				t.Errorf("%s is used twice", k)
			}
			seen[k] = true
		}
		if want := e.Family == Identity && e.Method != "userDeleted"; e.Deniable != want {
			t.Errorf("%s deniable = %v, want %v", e.Name, e.Deniable, want)
		}
	}
}

func TestHandled(t *testing.T) {
	tests := []struct {
		fn   discover.Function
		want []string
	}{
		{discover.Function{Name: "hello"}, nil},
		{discover.Function{Name: "submission-created"}, []string{"submission-created"}},
		{discover.Function{Name: "deploy-succeeded-background"}, []string{"deploy-succeeded"}},
		{discover.Function{Name: "split-test-modified"}, nil},
		// Not a name Netlify triggers by: only the v2 methods count.
		{discover.Function{Name: "identity-userdeleted"}, nil},
		{discover.Function{Name: "hooks", Handlers: []string{"fetch", "userSignup", "deploySucceeded", "other"}},
			[]string{"deploy-succeeded", "identity-signup"}},
		{discover.Function{Name: "deploy-succeeded", Handlers: []string{"deploySucceeded", "deployFailed"}},
			[]string{"deploy-succeeded", "deploy-failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.fn.Name, func(t *testing.T) {
			if got := Handled(tt.fn); !slices.Equal(got, tt.want) {
				t.Errorf("Handled = %v, want %v", got, tt.want)
			}
		})
	}
}

// validate mirrors the payload checks of @netlify/serverless-functions-api
// 2.23.0: what it would answer 400 to.
func validate(t *testing.T, f Family, body []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	obj := func(v any, what string) map[string]any {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("missing %q object in %s", what, body)
		}
		return o
	}
	str := func(o map[string]any, k string) {
		if _, ok := o[k].(string); !ok {
			t.Errorf("missing string %q in %v", k, o)
		}
	}
	switch f {
	case Deploy:
		p := obj(m["payload"], "payload")
		obj(m["site"], "site")
		str(p, "id")
		str(p, "state")
		str(p, "created_at")
	case Form:
		obj(obj(m["payload"], "payload")["data"], "payload.data")
	case Identity:
		u := obj(m["user"], "user")
		str(u, "id")
		str(u, "email")
		str(u, "created_at")
	}
}

func TestSample(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	site := Site{ID: "unlinked", Name: "my-site", URL: "http://localhost:9999"}
	wantState := map[string]string{
		"deploy-building": "building", "deploy-succeeded": "ready", "deploy-failed": "error",
		"deploy-deleted": "deleted", "deploy-locked": "ready", "deploy-unlocked": "ready",
	}
	for _, e := range All {
		t.Run(e.Name, func(t *testing.T) {
			body := Sample(e, site, now)
			validate(t, e.Family, body)
			var m struct {
				Event   string         `json:"event"`
				Payload map[string]any `json:"payload"`
				Site    map[string]any `json:"site"`
			}
			json.Unmarshal(body, &m)
			switch e.Family {
			case Deploy:
				if got := m.Payload["state"]; got != wantState[e.Name] {
					t.Errorf("state = %v, want %s", got, wantState[e.Name])
				}
				if m.Payload["site_id"] != "unlinked" || m.Site["url"] != site.URL {
					t.Errorf("site not filled in: %s", body)
				}
				if e.Name == "deploy-failed" && m.Payload["error_message"] == nil {
					t.Errorf("a failed deploy has no error_message")
				}
			case Identity:
				if want := e.Name[len("identity-"):]; m.Event != want {
					t.Errorf("event = %q, want %q", m.Event, want)
				}
			}
		})
	}
}
