package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBearerClaims covers JWT decoding: which tokens give claims, which are
// ignored as opaque (an API key is not meant for Identity: no warning), and
// which are broken JWTs that get a warning naming the problem.
func TestBearerClaims(t *testing.T) {
	claims := `{"sub":"u1","email":"ada@example.com"}`
	tests := []struct {
		name      string
		auth      string
		wantEmail string
		problem   string // substring; "" for none
	}{
		{name: "none"},
		{name: "basic", auth: "Basic dXNlcjpwYXNz"},
		{name: "valid", auth: "Bearer " + jwt(`{"alg":"HS256"}`, claims), wantEmail: "ada@example.com"},
		{name: "valid with spaces", auth: "Bearer   " + jwt(`{"alg":"HS256"}`, claims) + " ", wantEmail: "ada@example.com"},
		{name: "unsigned still decodes", auth: "Bearer " + strings.TrimSuffix(jwt(`{"alg":"none"}`, claims), "c2lnbmF0dXJl"), wantEmail: "ada@example.com"},
		{name: "opaque api key", auth: "Bearer sk_live_123"},
		{name: "opaque with dots", auth: "Bearer a.b"},
		{name: "empty", auth: "Bearer "},
		{name: "JWT cut short", auth: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9", problem: "it has 2 parts, a JWT has 3"},
		{name: "JWT header only", auth: "Bearer eyJhbGciOiJIUzI1NiJ9", problem: "it has 1 part,"},
		{name: "payload not base64url", auth: "Bearer eyJhbGciOiJIUzI1NiJ9.!!!.sig", problem: "not base64url"},
		{name: "payload not JSON", auth: "Bearer " + jwt(`{}`, `nope`), problem: "not a JSON object"},
		{name: "payload an array", auth: "Bearer " + jwt(`{}`, `[1]`), problem: "not a JSON object"},
		{name: "payload null", auth: "Bearer " + jwt(`{}`, `null`), problem: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			got, problem := bearerClaims(r)
			if email, _ := got["email"].(string); email != tt.wantEmail {
				t.Errorf("email = %q, want %q (claims %v)", email, tt.wantEmail, got)
			}
			if (tt.problem == "") != (problem == "") || !strings.Contains(problem, tt.problem) {
				t.Errorf("problem = %q, want %q", problem, tt.problem)
			}
		})
	}
}

func TestIdentityInfo(t *testing.T) {
	token := jwt(`{"alg":"HS256"}`, `{"sub":"u1","email":"ada@example.com"}`)
	r := httptest.NewRequest("GET", "http://127.0.0.1:8888/x", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	claims, _ := bearerClaims(r)
	raw, err := base64.StdEncoding.DecodeString(identityInfo(r, claims))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		URL   string         `json:"url"`
		Token string         `json:"token"`
		User  map[string]any `json:"user"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if got.URL != "http://127.0.0.1:8888/.netlify/identity" || got.Token != token || got.User["email"] != "ada@example.com" {
		t.Errorf("identity info = %s", raw)
	}
}

func TestGeo(t *testing.T) {
	tests := []struct {
		in      string
		code    string
		wantErr bool
	}{
		{"de", "DE", false}, {" JP ", "JP", false}, {"US", "US", false},
		{"DEU", "", true}, {"d", "", true}, {"1A", "", true}, {"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			code, err := ParseCountry(tt.in)
			if code != tt.code || (err != nil) != tt.wantErr {
				t.Fatalf("ParseCountry(%q) = %q, %v", tt.in, code, err)
			}
			if err != nil {
				return
			}
			raw, _ := base64.StdEncoding.DecodeString(geoFor(code))
			var g struct {
				Country struct{ Code, Name string }
			}
			if err := json.Unmarshal(raw, &g); err != nil || g.Country.Code != code || g.Country.Name == "" {
				t.Errorf("geoFor(%s) = %s", code, raw)
			}
		})
	}
}
