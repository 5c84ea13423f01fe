package invoke

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

func TestUnknownFunction(t *testing.T) {
	cfg := &config.Config{FunctionsDir: "/site/functions"}
	fns := []discover.Function{{Name: "hello"}, {Name: "send-email-background"}, {Name: "greet"}}
	tests := []struct {
		name, want, notWant string
	}{
		{name: "helo", want: `did you mean "hello"?`},
		{name: "send-email", want: `did you mean "send-email-background"?`},
		{name: "zzzzzzzz", notWant: "did you mean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := unknownFunction(tt.name, fns, cfg).Error()
			if tt.want != "" && !strings.Contains(msg, tt.want) {
				t.Errorf("message %q lacks %q", msg, tt.want)
			}
			if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
				t.Errorf("message %q should not contain %q", msg, tt.notWant)
			}
			if !strings.Contains(msg, "available: greet, hello, send-email-background") {
				t.Errorf("message %q does not list the functions", msg)
			}
		})
	}
	if msg := unknownFunction("x", nil, cfg).Error(); !strings.Contains(msg, "/site/functions has no functions") {
		t.Errorf("empty site message = %q", msg)
	}
}

func TestSampleBody(t *testing.T) {
	tests := []struct {
		name string
		data string
		keys []string
		raw  string // exact body when the sample does not apply
	}{
		{name: "hello", data: `{"a":1}`, raw: `{"a":1}`},
		{name: "identity-signup", keys: []string{"event", "user"}},
		{name: "identity-login-background", data: `{"extra":true}`, keys: []string{"event", "user", "extra"}},
		{name: "submission-created", keys: []string{"payload", "site"}},
		{name: "deploy-succeeded", data: "not json", raw: "not json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sampleBody(discover.Function{Name: tt.name}, []byte(tt.data))
			if tt.raw != "" {
				if string(got) != tt.raw {
					t.Fatalf("body = %s, want %s", got, tt.raw)
				}
				return
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatalf("body %s: %v", got, err)
			}
			for _, k := range tt.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("body %s lacks %q", got, k)
				}
			}
		})
	}
	var m map[string]any
	json.Unmarshal(sampleBody(discover.Function{Name: "identity-validate"}, nil), &m)
	if m["event"] != "validate" {
		t.Errorf("identity-validate event = %v, want validate", m["event"])
	}
}

func TestReadData(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "payload.json")
	os.WriteFile(file, []byte(`{"from":"file"}`), 0o644)
	tests := []struct {
		name, data, stdin, want string
		set, wantErr            bool
	}{
		{name: "unset", want: ""},
		{name: "literal", data: `{"a":1}`, set: true, want: `{"a":1}`},
		{name: "file", data: "@" + file, set: true, want: `{"from":"file"}`},
		{name: "missing file", data: "@" + filepath.Join(dir, "nope.json"), set: true, wantErr: true},
		{name: "stdin", data: "-", stdin: "from stdin", set: true, want: "from stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, in, _, _ := ui.Test()
			in.WriteString(tt.stdin)
			got, err := readData(Options{Streams: streams, Data: tt.data, DataSet: tt.set})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("data = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIdentityJWT(t *testing.T) {
	parts := strings.Split(identityJWT(), ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
}

func TestRequestPath(t *testing.T) {
	plain := discover.Function{Name: "hello"}
	routed := discover.Function{Name: "item", Paths: []string{"/api/items/:id", "/api/item", "/api/*"}}
	params := discover.Function{Name: "pair", Paths: []string{"/pair/:a/:b", "/files/*"}}
	tests := []struct {
		name        string
		fn          discover.Function
		path, query string
		want        string
		wantErr     string
	}{
		{"plain function", plain, "", "", "/.netlify/functions/hello", ""},
		{"plain with query", plain, "", "?a=1&b=2", "/.netlify/functions/hello?a=1&b=2", ""},
		{"first literal route", routed, "", "", "/api/item", ""},
		{"route and query", routed, "", "x=1", "/api/item?x=1", ""},
		{"--path is the full path", routed, "/api/items/7?v=2", "", "/api/items/7?v=2", ""},
		{"--path and --query", routed, "/api/items/7?v=2", "w=3", "/api/items/7?v=2&w=3", ""},
		{"--path without a slash", plain, ".netlify/functions/hello/sub", "", "/.netlify/functions/hello/sub", ""},
		{"only parameter routes", params, "", "", "", "function pair answers only on routes with parameters or wildcards (/pair/:a/:b, /files/*): give the request path with --path, for example --path /pair/1/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := requestPath(tt.fn, tt.path, tt.query)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("requestPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRequestMethod(t *testing.T) {
	getOnly := discover.Function{Name: "docs", Paths: []string{"/docs"}, Methods: []string{"GET", "HEAD"}}
	tests := []struct {
		name   string
		fn     discover.Function
		method string
		set    bool
		want   string
	}{
		{"default POST", discover.Function{Name: "hello"}, "POST", false, "POST"},
		{"route that takes only GET", getOnly, "POST", false, "GET"},
		{"--method wins", getOnly, "put", true, "PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requestMethod(tt.fn, tt.method, tt.set); got != tt.want {
				t.Errorf("requestMethod = %s, want %s", got, tt.want)
			}
		})
	}
}
