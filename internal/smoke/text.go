package smoke

import (
	"fmt"
	"regexp"
	"strings"
)

// text is a string from the smoke file that may refer to captured values
// as ${name}; $${ stands for a literal ${.
type text struct {
	parts []textPart
}

// textPart is a literal, or a reference when ref is set.
type textPart struct {
	lit string
	ref string
}

// varName is what a variable (a capture's key) may be called.
var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseText splits s into literals and ${name} references.
func parseText(s string) (text, error) {
	var t text
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' {
			// $${ is a literal ${.
			lit.WriteString(s[:i-1])
			lit.WriteString("${")
			s = s[i+2:]
			continue
		}
		lit.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return text{}, fmt.Errorf("unterminated ${ in %q (write $${ for a literal ${)", s[i:])
		}
		name := s[i+2 : i+end]
		if !varName.MatchString(name) {
			return text{}, fmt.Errorf("invalid variable name %q in ${%s}: use letters, digits and _", name, name)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, textPart{lit: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, textPart{ref: name})
		s = s[i+end+1:]
	}
	if lit.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, textPart{lit: lit.String()})
	}
	return t, nil
}

// literal is a text without references.
func literal(s string) text { return text{parts: []textPart{{lit: s}}} }

// refs lists the variables t refers to.
func (t text) refs() []string {
	var out []string
	for _, p := range t.parts {
		if p.ref != "" {
			out = append(out, p.ref)
		}
	}
	return out
}

// expand replaces each reference with its value; the runner only expands
// a case once every variable it uses has one.
func (t text) expand(vars map[string]string) string {
	if len(t.parts) == 1 && t.parts[0].ref == "" {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref != "" {
			b.WriteString(vars[p.ref])
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// String shows t as it was written, for messages.
func (t text) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref != "" {
			b.WriteString("${" + p.ref + "}")
		} else {
			b.WriteString(strings.ReplaceAll(p.lit, "${", "$${"))
		}
	}
	return b.String()
}
