// Package events is the catalogue of Netlify platform events: their names
// (deploy-succeeded, submission-created, identity-signup…), the
// x-netlify-event slug Netlify's runtime dispatches on, the method of a v2
// handler object that answers each (deploySucceeded, formSubmitted,
// userSignup…), which functions handle an event, and realistic sample
// payloads for `bgfn trigger`.
//
// The slugs and methods are those of @netlify/serverless-functions-api
// 2.23.0 (eventHandlers), the payload shapes those its validators accept
// (reference anchors-2026-12.md §1.8).
package events

import (
	"slices"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/discover"
)

// Family groups events whose payloads share a shape.
type Family string

// The event families.
const (
	Deploy   Family = "deploy"
	Form     Family = "form"
	Identity Family = "identity"
)

// Event is one Netlify platform event.
type Event struct {
	// Name is the event as a legacy function is named after it, and as
	// `bgfn trigger` takes it: deploy-succeeded.
	Name string
	// Slug is the x-netlify-event header value: deploy_succeeded.
	Slug string
	// Method is the v2 handler object's method: deploySucceeded.
	Method string
	Family Family
	// Deniable events (login, signup, validate, modified) give the handler
	// event.deny(), which answers 401.
	Deniable bool
}

// All is every platform event, in Netlify's order.
var All = []Event{
	{Name: "deploy-building", Slug: "deploy_building", Method: "deployBuilding", Family: Deploy},
	{Name: "deploy-succeeded", Slug: "deploy_succeeded", Method: "deploySucceeded", Family: Deploy},
	{Name: "deploy-failed", Slug: "deploy_failed", Method: "deployFailed", Family: Deploy},
	{Name: "deploy-deleted", Slug: "deploy_deleted", Method: "deployDeleted", Family: Deploy},
	{Name: "deploy-locked", Slug: "deploy_locked", Method: "deployLocked", Family: Deploy},
	{Name: "deploy-unlocked", Slug: "deploy_unlocked", Method: "deployUnlocked", Family: Deploy},
	{Name: "submission-created", Slug: "submission_created", Method: "formSubmitted", Family: Form},
	{Name: "identity-login", Slug: "identity_login", Method: "userLogin", Family: Identity, Deniable: true},
	{Name: "identity-signup", Slug: "identity_signup", Method: "userSignup", Family: Identity, Deniable: true},
	{Name: "identity-validate", Slug: "identity_validate", Method: "userValidate", Family: Identity, Deniable: true},
	{Name: "identity-usermodified", Slug: "identity_usermodified", Method: "userModified", Family: Identity, Deniable: true},
	{Name: "identity-userdeleted", Slug: "identity_userdeleted", Method: "userDeleted", Family: Identity},
}

// Legacy are the event names Netlify triggers a function by when the
// function is named after one (submission-created.js,
// deploy-succeeded-background.mjs), whatever its API. (netlify-cli's
// invoke also knows the split-test events, which have no v2 method and no
// documented payload; bgfn invoke still sends its samples to functions
// named after them.)
var Legacy = []string{
	"deploy-building", "deploy-succeeded", "deploy-failed", "deploy-deleted", "deploy-locked", "deploy-unlocked",
	"submission-created", "identity-validate", "identity-signup", "identity-login",
}

// Lookup finds an event by its name (deploy-succeeded), its slug
// (deploy_succeeded) or its method (deploySucceeded).
func Lookup(s string) (Event, bool) {
	for _, e := range All {
		if s == e.Name || s == e.Slug || s == e.Method {
			return e, true
		}
	}
	return Event{}, false
}

// Names lists every event name, for messages.
func Names() []string {
	out := make([]string, len(All))
	for i, e := range All {
		out[i] = e.Name
	}
	return out
}

// Handled lists the events fn handles, by name: the one it is named after
// (a legacy event function such as submission-created.js or
// deploy-succeeded-background.mjs), then those whose method its v2
// default export object declares.
func Handled(fn discover.Function) []string {
	var out []string
	if name, ok := legacyEvent(fn.Name); ok {
		out = append(out, name)
	}
	for _, e := range All {
		if slices.Contains(fn.Handlers, e.Method) && !slices.Contains(out, e.Name) {
			out = append(out, e.Name)
		}
	}
	return out
}

// legacyEvent is the event a function is named after, if any.
func legacyEvent(name string) (string, bool) {
	ev := strings.TrimSuffix(name, "-background")
	return ev, slices.Contains(Legacy, ev)
}

// Handles reports whether fn handles e: it is named after it, or its v2
// handler object has e's method.
func Handles(fn discover.Function, e Event) bool {
	return slices.Contains(Handled(fn), e.Name)
}
