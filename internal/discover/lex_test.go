package discover

import (
	"fmt"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // tokens as kind:text@depth, space-separated
	}{
		{
			name: "punctuators",
			src:  "a => b == c === d ... e.f = !g",
			want: "I:a@0 P:=>@0 I:b@0 P:==@0 I:c@0 P:===@0 I:d@0 P:...@0 I:e@0 P:.@0 I:f@0 P:=@0 P:!@0 I:g@0",
		},
		{
			name: "depth",
			src:  "f({ a: [1] })",
			want: "I:f@0 P:(@0 P:{@1 I:a@2 P::@2 P:[@2 N:1@3 P:]@2 P:}@1 P:)@0",
		},
		{
			name: "strings",
			src:  `"a\"b" 'c\'d' "e\nf" '\u{1F600}' "\uD83D\uDE00" "\x41\101"`,
			want: `S:a"b@0 S:c'd@0 S:e` + "\n" + `f@0 S:😀@0 S:😀@0 S:A101@0`,
		},
		{
			name: "unterminated string stops at the line end",
			src:  "a 'b\nc",
			want: "I:a@0 S:b@0 I:c@0",
		},
		{
			name: "comments",
			src:  "a // b { c\n/* d } */ e",
			want: "I:a@0 I:e@0",
		},
		{
			name: "template without substitutions",
			src:  "`a{b}\\`c`",
			want: "T:a{b}`c@0",
		},
		{
			name: "template with nested substitutions",
			src:  "`x${ {a: '}'} }y${ `z${ 1 }` }` w",
			want: "T$:xy@0 I:w@0",
		},
		{
			name: "regexp after operator",
			src:  `x = /"}/g; y`,
			want: `I:x@0 P:=@0 R:/"}/g@0 P:;@0 I:y@0`,
		},
		{
			name: "regexp with slash in class",
			src:  `f(/[/]x/)`,
			want: `I:f@0 P:(@0 R:/[/]x/@1 P:)@0`,
		},
		{
			name: "division after identifier and paren",
			src:  "a / b / (c) / 2",
			want: "I:a@0 P:/@0 I:b@0 P:/@0 P:(@0 I:c@1 P:)@0 P:/@0 N:2@0",
		},
		{
			name: "regexp after keyword",
			src:  "return /a/",
			want: "I:return@0 R:/a/@0",
		},
		{
			name: "unclosed brace does not go negative",
			src:  "} ) a",
			want: "P:}@0 P:)@0 I:a@0",
		},
		{
			name: "hashbang",
			src:  "#!/usr/bin/env node\nx",
			want: "I:x@0",
		},
		{
			name: "unicode identifiers and spaces",
			src:  "café\u00a0= 1",
			want: "I:café@0 P:=@0 N:1@0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tok := range tokenize(tt.src) {
				if tok.kind == tokEOF {
					break
				}
				got = append(got, fmt.Sprintf("%s:%s@%d", kindLetter(tok), tok.text, tok.depth))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("tokenize(%q)\n got %s\nwant %s", tt.src, g, tt.want)
			}
		})
	}
}

func kindLetter(t token) string {
	switch t.kind {
	case tokIdent:
		return "I"
	case tokString:
		return "S"
	case tokTemplate:
		if t.subst {
			return "T$"
		}
		return "T"
	case tokNumber:
		return "N"
	case tokRegexp:
		return "R"
	case tokPunct:
		return "P"
	}
	return "?"
}
