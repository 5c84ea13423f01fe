package config

import (
	"errors"
	"testing"
)

// TestKeyCase: a key that differs only in case from one bgfn reads is an
// error, since toml would decode it (and pick one of two spellings at
// random), while Netlify reads keys case-sensitively.
func TestKeyCase(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		wantErr string // "" when the file loads
	}{
		{
			// Found by FuzzNetlifyTOML (testdata/fuzz/FuzzNetlifyTOML): decoding panicked.
			name:    "the fuzzer's file",
			toml:    "[functions.\"a00*\"]\nBACkground=false\n[A0000.\"000000000 \"]\n0=\"\"\n[funCtions.\"0000\"]#0000",
			wantErr: `netlify.toml: 'functions."a00*".BACkground': keys are case-sensitive: write "background"`,
		},
		{
			// This panicked too, or decoded one of the two tables at random.
			name:    "both spellings of functions",
			toml:    "[functions.a]\nbackground = true\n[Functions.b]\nschedule = \"@daily\"\n",
			wantErr: `netlify.toml: "Functions": keys are case-sensitive: write "functions"`,
		},
		{name: "a top-level table", toml: "[Build]\nfunctions = \"f\"\n", wantErr: `netlify.toml: "Build": keys are case-sensitive: write "build"`},
		{name: "a build key", toml: "[build]\nBase = \"app\"\n", wantErr: `netlify.toml: "build.Base": keys are case-sensitive: write "base"`},
		{name: "a dev key", toml: "[dev]\nfunctionsport = 8888\n", wantErr: `netlify.toml: "dev.functionsport": keys are case-sensitive: write "functionsPort"`},
		{name: "a context key", toml: "[context.dev]\nEnvironment = { A = \"1\" }\n", wantErr: `netlify.toml: "context.dev.Environment": keys are case-sensitive: write "environment"`},
		{name: "a pattern key", toml: "[functions.\"api-*\"]\nSchedule = \"@daily\"\n", wantErr: `netlify.toml: 'functions."api-*".Schedule': keys are case-sensitive: write "schedule"`},
		{name: "context names are free", toml: "[context.Dev]\nbase = \"b\"\n"},
		{name: "pattern names are free", toml: "[functions.Background]\nbackground = true\n"},
		{name: "a [functions] key is an unknown key, not an error", toml: "[functions]\nNode_bundler = \"esbuild\"\n"},
		{name: "environment names are free", toml: "[build.environment]\nBASE = \"1\"\nbase = \"2\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeNetlifyTOML("netlify.toml", []byte(tt.toml), "dev")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want *ParseError %q", err, tt.wantErr)
			}
		})
	}
}
