package events

import (
	"encoding/json"
	"strings"
	"time"
)

// Site is the site a sample payload describes.
type Site struct {
	ID   string
	Name string
	URL  string
}

// Sample IDs: fixed, so tests and snapshots stay stable.
const (
	sampleDeployID = "6750e5a3c1b2d30008a1b2c3"
	sampleBuildID  = "6750e5a3c1b2d30008a1b2c4"
	sampleUserID   = "1111a1a1-a11a-1111-aa11-aaa11111a11a"
	sampleFormID   = "6750e5a3c1b2d30008f0f0f0"
	sampleSubmitID = "6750e5a3c1b2d30008d0d0d0"
)

// Sample is a realistic body Netlify would send with e: the deploy
// webhook's {payload, site} for deploy events, the form submission's
// {payload, site} for submission-created, and Identity's {event,
// instance_id, user} for identity events. Each passes the validation of
// Netlify's runtime (payload.id, state and created_at; payload.data;
// user.id, email and created_at).
func Sample(e Event, site Site, now time.Time) []byte {
	var body any
	switch e.Family {
	case Deploy:
		body = map[string]any{"payload": deployPayload(e, site, now), "site": sitePayload(site)}
	case Form:
		body = map[string]any{"payload": formPayload(site, now), "site": sitePayload(site)}
	default:
		body = identityPayload(e, now)
	}
	b, _ := json.Marshal(body)
	return b
}

func sitePayload(site Site) map[string]any {
	return map[string]any{
		"id":        site.ID,
		"name":      site.Name,
		"url":       site.URL,
		"ssl_url":   site.URL,
		"admin_url": "https://app.netlify.com/projects/" + site.Name,
	}
}

// deployState is the deploy's state when e fires.
func deployState(e Event) string {
	switch e.Name {
	case "deploy-building":
		return "building"
	case "deploy-failed":
		return "error"
	case "deploy-deleted":
		return "deleted"
	}
	return "ready"
}

func deployPayload(e Event, site Site, now time.Time) map[string]any {
	created := now.Add(-40 * time.Second).UTC().Format(time.RFC3339Nano)
	state := deployState(e)
	p := map[string]any{
		"id":             sampleDeployID,
		"site_id":        site.ID,
		"build_id":       sampleBuildID,
		"state":          state,
		"name":           site.Name,
		"url":            site.URL,
		"ssl_url":        site.URL,
		"admin_url":      "https://app.netlify.com/projects/" + site.Name,
		"deploy_url":     site.URL,
		"deploy_ssl_url": site.URL,
		"created_at":     created,
		"updated_at":     now.UTC().Format(time.RFC3339Nano),
		"published_at":   nil,
		"error_message":  nil,
		"commit_ref":     "0d3c1f2a9b8e7d6c5b4a39281706f5e4d3c2b1a0",
		"commit_url":     "https://github.com/example/site/commit/0d3c1f2a9b8e7d6c5b4a39281706f5e4d3c2b1a0",
		"commit_message": "Update the home page",
		"committer":      "ada",
		"branch":         "main",
		"context":        "production",
		"title":          "Update the home page",
		"review_id":      nil,
		"locked":         e.Name == "deploy-locked",
		"deploy_time":    nil,
		"manual_deploy":  false,
		"framework":      nil,
	}
	switch state {
	case "ready":
		p["published_at"] = now.UTC().Format(time.RFC3339Nano)
		p["deploy_time"] = 38
	case "error":
		p["error_message"] = "Build script returned non-zero exit code: 2"
	}
	return p
}

func formPayload(site Site, now time.Time) map[string]any {
	data := map[string]any{
		"name":       "Ada Lovelace",
		"email":      "ada@example.com",
		"message":    "Hello from bgfn trigger",
		"ip":         "127.0.0.1",
		"user_agent": "bgfn",
		"referrer":   site.URL + "/contact",
	}
	return map[string]any{
		"id":         sampleSubmitID,
		"number":     1,
		"title":      nil,
		"email":      "ada@example.com",
		"name":       "Ada Lovelace",
		"first_name": "Ada",
		"last_name":  "Lovelace",
		"company":    nil,
		"summary":    "<strong>Ada Lovelace</strong> Hello from bgfn trigger",
		"body":       "Hello from bgfn trigger",
		"data":       data,
		"created_at": now.UTC().Format(time.RFC3339Nano),
		"human_fields": map[string]any{
			"Name": "Ada Lovelace", "Email": "ada@example.com", "Message": "Hello from bgfn trigger",
		},
		"ordered_human_fields": []any{
			map[string]any{"title": "Name", "name": "name", "value": "Ada Lovelace"},
			map[string]any{"title": "Email", "name": "email", "value": "ada@example.com"},
			map[string]any{"title": "Message", "name": "message", "value": "Hello from bgfn trigger"},
		},
		"site_url":  site.URL,
		"form_id":   sampleFormID,
		"form_name": "contact",
	}
}

func identityPayload(e Event, now time.Time) map[string]any {
	ts := now.UTC().Format(time.RFC3339Nano)
	return map[string]any{
		"event":       strings.TrimPrefix(e.Name, "identity-"),
		"instance_id": "00000000-0000-0000-0000-000000000000",
		"user": map[string]any{
			"id":            sampleUserID,
			"aud":           "",
			"role":          "",
			"email":         "foo@trust-this-company.com",
			"confirmed_at":  ts,
			"app_metadata":  map[string]any{"provider": "email"},
			"user_metadata": map[string]any{"full_name": "Test Person"},
			"created_at":    ts,
			"updated_at":    ts,
		},
	}
}
