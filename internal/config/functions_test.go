package config

import (
	"slices"
	"testing"
)

func boolPtr(b bool) *bool { return &b }

func TestFunctionsConfigFor(t *testing.T) {
	cfg := FunctionsConfig{
		Defaults: FunctionSettings{
			NodeBundler:   "esbuild",
			IncludedFiles: []string{"defaults"},
		},
		Patterns: []PatternSettings{
			// Listed from the most to the least specific, to show that file
			// order does not decide.
			{Pattern: "hello", FunctionSettings: FunctionSettings{
				Schedule: "@exact", IncludedFiles: []string{"hello"},
			}},
			{Pattern: "hello*", FunctionSettings: FunctionSettings{
				Schedule: "@hello-star", IncludedFiles: []string{"hello*"}, Background: boolPtr(false),
			}},
			{Pattern: "hel*", FunctionSettings: FunctionSettings{
				Schedule: "@hel-star", NodeBundler: "zisi", IncludedFiles: []string{"hel*"},
				ExternalNodeModules: []string{"sharp"}, Background: boolPtr(true),
			}},
			{Pattern: "*", FunctionSettings: FunctionSettings{
				Schedule: "@star", IncludedFiles: []string{"*"},
			}},
			// Same weight as "hel*" (3), later in the file: applied after it.
			{Pattern: "h?l*", FunctionSettings: FunctionSettings{
				NodeBundler: "nft", IncludedFiles: []string{"h?l*"},
			}},
		},
	}
	tests := []struct {
		name string
		want FunctionSettings
	}{
		{
			name: "hello",
			want: FunctionSettings{
				NodeBundler:         "nft",
				Schedule:            "@exact",
				IncludedFiles:       []string{"defaults", "*", "hel*", "h?l*", "hello*", "hello"},
				ExternalNodeModules: []string{"sharp"},
				Background:          boolPtr(false),
			},
		},
		{
			name: "hello-world",
			want: FunctionSettings{
				NodeBundler:         "nft",
				Schedule:            "@hello-star",
				IncludedFiles:       []string{"defaults", "*", "hel*", "h?l*", "hello*"},
				ExternalNodeModules: []string{"sharp"},
				Background:          boolPtr(false),
			},
		},
		{
			name: "help",
			want: FunctionSettings{
				NodeBundler:         "nft",
				Schedule:            "@hel-star",
				IncludedFiles:       []string{"defaults", "*", "hel*", "h?l*"},
				ExternalNodeModules: []string{"sharp"},
				Background:          boolPtr(true),
			},
		},
		{
			name: "other",
			want: FunctionSettings{
				NodeBundler:   "esbuild",
				Schedule:      "@star",
				IncludedFiles: []string{"defaults", "*"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cfg.For(tt.name)
			if got.NodeBundler != tt.want.NodeBundler || got.Schedule != tt.want.Schedule ||
				!slices.Equal(got.IncludedFiles, tt.want.IncludedFiles) ||
				!slices.Equal(got.ExternalNodeModules, tt.want.ExternalNodeModules) ||
				!equalBoolPtr(got.Background, tt.want.Background) {
				t.Errorf("For(%q) =\n%s\nwant\n%s", tt.name, fmtSettings(got), fmtSettings(tt.want))
			}
		})
	}

	t.Run("does not alias the config", func(t *testing.T) {
		got := cfg.For("hello")
		got.IncludedFiles[0] = "changed"
		*got.Background = true
		if cfg.Defaults.IncludedFiles[0] != "defaults" || *cfg.Patterns[1].Background {
			t.Error("For returned memory shared with the config")
		}
	})
	t.Run("empty config", func(t *testing.T) {
		got := FunctionsConfig{}.For("x")
		if got.NodeBundler != "" || got.IncludedFiles != nil || got.Background != nil {
			t.Errorf("For on an empty config = %+v", got)
		}
	})
}

func equalBoolPtr(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fmtSettings(s FunctionSettings) string {
	bg := "nil"
	if s.Background != nil {
		bg = map[bool]string{true: "true", false: "false"}[*s.Background]
	}
	return "node_bundler=" + s.NodeBundler + " schedule=" + s.Schedule + " background=" + bg +
		" included_files=" + slicesString(s.IncludedFiles) + " external_node_modules=" + slicesString(s.ExternalNodeModules)
}

func slicesString(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

func TestPatternWeight(t *testing.T) {
	tests := []struct {
		pattern string
		want    int
	}{
		{"*", -1},
		{"hello", 5},
		{"hello*", 4},
		{"hel*", 2},
		{"*-background", 10},
		{"a**", 0},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			if got := patternWeight(tt.pattern); got != tt.want {
				t.Errorf("patternWeight(%q) = %d, want %d", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything", true},
		{"hello", "hello", true},
		{"hello", "hello2", false},
		{"api-*", "api-users", true},
		{"api-*", "web-users", false},
		{"*-background", "send-email-background", true},
		{"fn?", "fn1", true},
		{"fn[0-9]", "fn7", true},
		{"fn[0-9]", "fnx", false},
		{"{a,b}-job", "a-job", true},
		{"{a,b}-job", "b-job", true},
		{"{a,b}-job", "c-job", false},
		{"x-{a,b{1,2}}", "x-b2", true},
		{"x-{a,b{1,2}}", "x-b", false},
		{"{a}", "{a}", true},
		{`\{a,b}`, "{a,b}", true},
		{"[a", "[a", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			if got := matchPattern(tt.pattern, tt.name); got != tt.want {
				t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
			}
		})
	}
}

func TestExpandBraces(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"plain", []string{"plain"}},
		{"{a,b}", []string{"a", "b"}},
		{"p-{a,b}-s", []string{"p-a-s", "p-b-s"}},
		{"{a,b}{1,2}", []string{"a1", "a2", "b1", "b2"}},
		{"{a,{b,c}}", []string{"a", "b", "c"}},
		{"{a,}", []string{"a", ""}},
		{"{a}", []string{"{a}"}},
		{"{a}{b,c}", []string{"{a}b", "{a}c"}},
		{"{a,b", []string{"{a,b"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			if got := expandBraces(tt.pattern); !slices.Equal(got, tt.want) {
				t.Errorf("expandBraces(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		p := ""
		for range 60 {
			p += "{a,b}"
		}
		if got := len(expandBraces(p)); got != maxBraceExpansions {
			t.Errorf("len(expandBraces) = %d, want %d", got, maxBraceExpansions)
		}
	})
}
