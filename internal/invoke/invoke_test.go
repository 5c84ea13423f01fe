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

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"hello", "hello", 0}, {"helo", "hello", 1}, {"hlelo", "hello", 2}, {"abc", "", 3}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := distance(tt.a, tt.b); got != tt.want {
				t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

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
