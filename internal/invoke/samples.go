package invoke

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/textdist"
)

// eventFunctions are the names netlify-cli's functions:invoke sends a sample
// event body to (reference §9); their -background variants count too.
var eventFunctions = map[string]bool{
	"deploy-building": true, "deploy-succeeded": true, "deploy-failed": true, "deploy-locked": true,
	"deploy-unlocked": true, "split-test-activated": true, "split-test-deactivated": true,
	"split-test-modified": true, "submission-created": true,
	"identity-validate": true, "identity-signup": true, "identity-login": true,
}

// sampleBody returns the body sent to an event-triggered function: the
// sample netlify-cli sends, with --data's JSON object merged over it.
func sampleBody(fn discover.Function, data []byte) []byte {
	event := strings.TrimSuffix(fn.Name, "-background")
	if !eventFunctions[event] {
		return data
	}
	var sample map[string]any
	if kind, ok := strings.CutPrefix(event, "identity-"); ok {
		sample = map[string]any{
			"event": kind,
			"user": map[string]any{
				"id":            "1111a1a1-a11a-1111-aa11-aaa11111a11a",
				"aud":           "",
				"role":          "",
				"email":         "foo@trust-this-company.com",
				"app_metadata":  map[string]any{"provider": "email"},
				"user_metadata": map[string]any{"full_name": "Test Person"},
				"created_at":    time.Now().UTC().Format(time.RFC3339),
				"updated_at":    time.Now().UTC().Format(time.RFC3339),
			},
		}
	} else {
		sample = map[string]any{
			"payload": map[string]any{"TODO": "mock up payload data better"},
			"site":    map[string]any{"TODO": "mock up site data better"},
		}
	}
	if len(data) > 0 {
		var extra map[string]any
		if json.Unmarshal(data, &extra) != nil {
			return data
		}
		for k, v := range extra {
			sample[k] = v
		}
	}
	b, _ := json.Marshal(sample)
	return b
}

// identityJWT is an unsigned-looking Netlify Identity token: locally its
// claims fill clientContext.user, nothing verifies it.
func identityJWT() string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"exp":           time.Now().Add(time.Hour).Unix(),
		"sub":           "1111a1a1-a11a-1111-aa11-aaa11111a11a",
		"email":         "foo@trust-this-company.com",
		"app_metadata":  map[string]any{"provider": "email", "roles": []string{}},
		"user_metadata": map[string]any{"full_name": "Test Person"},
	})
	return header + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte("bgfn-local-signature"))
}

// unknownFunction explains that name is not a function of the site, with
// the nearest name and the list.
func unknownFunction(name string, fns []discover.Function, cfg *config.Config) error {
	if len(fns) == 0 {
		return fmt.Errorf("no function %q: the functions folder %s has no functions", name, cfg.FunctionsDir)
	}
	names := make([]string, len(fns))
	for i, f := range fns {
		names[i] = f.Name
	}
	// A name that contains what was typed (a forgotten "-background") is
	// the likeliest meaning.
	best := textdist.Nearest(name, names, true)
	sort.Strings(names)
	msg := fmt.Sprintf("no function %q", name)
	if best != "" {
		msg += fmt.Sprintf(": did you mean %q?", best)
	}
	return fmt.Errorf("%s (available: %s)", msg, strings.Join(names, ", "))
}
