package server

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestPlainStrings checks the fast path for multiValueHeaders arrays: it
// takes only plain arrays of plain strings, and what it takes it decodes
// as encoding/json does.
func TestPlainStrings(t *testing.T) {
	tests := []struct {
		raw  string
		want []string // nil: not taken
	}{
		{`["application/json"]`, []string{"application/json"}},
		{`["a=1","b=2; Path=/"]`, []string{"a=1", "b=2; Path=/"}},
		{`["",""]`, []string{"", ""}},
		{`["a, b","c"]`, []string{"a, b", "c"}},
		{`["x",""]`, []string{"x", ""}},
		{`[]`, nil},
		{`[""]`, []string{""}},
		{`["a\"b"]`, nil},
		{`["a\\b"]`, nil},
		{`["\u00e9"]`, nil},
		{"[\"\xc3\xa9\"]", nil},
		{"[\"a\tb\"]", nil},
		{`["a", "b"]`, nil},
		{`["a",1]`, nil},
		{`[1]`, nil},
		{`["a",]`, nil},
		{`["a"`, nil},
		{`["a""b"]`, nil},
		{`["a"]]`, nil},
		{`"a"`, nil},
		{`["a","b"`, nil},
		{`[",",","]`, []string{",", ","}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, ok := plainStrings(json.RawMessage(tt.raw))
			if tt.want == nil {
				if ok {
					t.Fatalf("plainStrings(%s) = %q, want it left to encoding/json", tt.raw, got)
				}
				return
			}
			if !ok || !slices.Equal(got, tt.want) {
				t.Fatalf("plainStrings(%s) = %q, %v; want %q", tt.raw, got, ok, tt.want)
			}
			var viaJSON []string
			if err := json.Unmarshal([]byte(tt.raw), &viaJSON); err != nil || !slices.Equal(viaJSON, got) {
				t.Fatalf("encoding/json gives %q (%v), the fast path %q", viaJSON, err, got)
			}
			full, err := headerValues(json.RawMessage(tt.raw))
			if err != nil || !slices.Equal(full, got) {
				t.Fatalf("headerValues(%s) = %q, %v; want %q", tt.raw, full, err, got)
			}
		})
	}
}

// FuzzPlainStrings checks that whatever the fast path takes, encoding/json
// decodes to the same strings.
func FuzzPlainStrings(f *testing.F) {
	for _, s := range []string{`["a"]`, `["a","b"]`, `["",""]`, `["a\"b"]`, `[1]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := plainStrings(json.RawMessage(raw))
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal([]byte(raw), &want); err != nil || !slices.Equal(got, want) {
			t.Fatalf("plainStrings(%q) = %q; encoding/json: %q, %v", raw, got, want, err)
		}
	})
}

func BenchmarkHeaderValuesArray(b *testing.B) {
	raw := json.RawMessage(`["application/json"]`)
	for b.Loop() {
		if _, err := headerValues(raw); err != nil {
			b.Fatal(err)
		}
	}
}
