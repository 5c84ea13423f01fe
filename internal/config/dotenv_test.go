package config

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseDotEnv(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []envVar
	}{
		{name: "empty", input: "", want: nil},
		{name: "plain", input: "A=1\nB=two\n", want: []envVar{{"A", "1"}, {"B", "two"}}},
		{name: "no trailing newline", input: "A=1", want: []envVar{{"A", "1"}}},
		{name: "crlf", input: "A=1\r\nB=2\r\n", want: []envVar{{"A", "1"}, {"B", "2"}}},
		{name: "bom", input: "\ufeffA=1\n", want: []envVar{{"A", "1"}}},
		{name: "blank lines and comments", input: "\n# comment\n   # indented\n\nA=1\n\n", want: []envVar{{"A", "1"}}},
		{name: "whitespace trimmed", input: "  A  =   spaced out  \t\n", want: []envVar{{"A", "spaced out"}}},
		{name: "empty value", input: "A=\nB=   \n", want: []envVar{{"A", ""}, {"B", ""}}},
		{name: "export", input: "export A=1\nexport\tB=2\n", want: []envVar{{"A", "1"}, {"B", "2"}}},
		{name: "key named export", input: "export=1\nexported=2\n", want: []envVar{{"export", "1"}, {"exported", "2"}}},
		{name: "equals in value", input: "URL=postgres://u:p@h/db?x=1\n", want: []envVar{{"URL", "postgres://u:p@h/db?x=1"}}},
		{name: "trailing comment", input: "A=value # comment\nB=value\t# tab\n", want: []envVar{{"A", "value"}, {"B", "value"}}},
		{name: "hash inside value", input: "A=abc#def\nB=#\n", want: []envVar{{"A", "abc#def"}, {"B", ""}}},
		{name: "key characters", input: "a.b-c_D9=1\n", want: []envVar{{"a.b-c_D9", "1"}}},
		{name: "single quotes are literal", input: `A='x\ny # not a comment'` + "\n", want: []envVar{{"A", `x\ny # not a comment`}}},
		{name: "backquotes are literal", input: "A=`it's \"q\"`\n", want: []envVar{{"A", `it's "q"`}}},
		{name: "quoted whitespace kept", input: `A="  x  "` + "\n", want: []envVar{{"A", "  x  "}}},
		{
			name:  "double quote escapes",
			input: `A="l1\nl2\tt \"q\" \\ \r \$x"` + "\n",
			want:  []envVar{{"A", "l1\nl2\tt \"q\" \\ \r \\$x"}},
		},
		{name: "comment after quotes", input: `A="x" # c` + "\nB='y'#c\n", want: []envVar{{"A", "x"}, {"B", "y"}}},
		{
			name:  "multi-line double quotes",
			input: "KEY=\"-----BEGIN-----\nabc\\n\n-----END-----\"\nNEXT=1\n",
			want:  []envVar{{"KEY", "-----BEGIN-----\nabc\n\n-----END-----"}, {"NEXT", "1"}},
		},
		{
			name:  "multi-line single quotes",
			input: "KEY='a\n  b'\n",
			want:  []envVar{{"KEY", "a\n  b"}},
		},
		{name: "escaped quote does not close", input: `A="a\"b"` + "\n", want: []envVar{{"A", `a"b`}}},
		{name: "later wins in order", input: "A=1\nA=2\n", want: []envVar{{"A", "1"}, {"A", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDotEnv(".env", []byte(tt.input))
			if err != nil {
				t.Fatalf("parseDotEnv: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseDotEnv =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestParseDotEnvErrors(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantLine int
		wantMsg  string
	}{
		{name: "no equals", input: "A=1\nJUSTAWORD\n", wantLine: 2, wantMsg: "expected KEY=value"},
		{name: "empty key", input: "=value\n", wantLine: 1, wantMsg: "expected KEY=value"},
		{name: "bad key", input: "\n\nMY KEY=x\n", wantLine: 3, wantMsg: "expected KEY=value"},
		{name: "export alone", input: "export\n", wantLine: 1, wantMsg: "expected KEY=value"},
		{name: "unterminated", input: "A=1\nB=\"s3cr3t\nC=3\n", wantLine: 2, wantMsg: "unterminated quoted value"},
		{name: "text after quote", input: "A='s3cr3t'x\n", wantLine: 1, wantMsg: "unexpected text after closing quote"},
		{name: "text after multi-line quote", input: "A='a\nb' c\n", wantLine: 2, wantMsg: "unexpected text after closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDotEnv("site/.env.local", []byte(tt.input))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.File != "site/.env.local" || pe.Line != tt.wantLine || pe.Msg != tt.wantMsg {
				t.Errorf("err = %+v, want site/.env.local line %d %q", pe, tt.wantLine, tt.wantMsg)
			}
			if want := "site/.env.local:" + strconv.Itoa(tt.wantLine) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("Error() = %q shows the value", err.Error())
			}
		})
	}
}
