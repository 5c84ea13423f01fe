package routes

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file compiles the pathname part of a URLPattern
// (https://urlpattern.spec.whatwg.org/) into a Go regular expression. It
// follows the spec's tokenizer ("strict" policy), its pattern parser with "/"
// as both delimiter and prefix, and its regular expression generator; the
// generated expression is the one urlpattern-polyfill gives zip-it-and-ship-it,
// written for Go's RE2 syntax.

// The wildcards of the spec for a pathname.
const (
	segmentWildcard = `[^/]+?`
	fullWildcard    = `.*`
)

type tokenType uint8

const (
	tokOpen     tokenType = iota // {
	tokClose                     // }
	tokRegexp                    // (…), the value is what is inside
	tokName                      // :name, the value is the name
	tokChar                      // any other character
	tokEscaped                   // \x, the value is x
	tokModifier                  // ? or +
	tokAsterisk                  // *
	tokEnd
)

type token struct {
	typ   tokenType
	index int // byte offset in the pattern, for errors
	value string
}

// tokenize splits a pattern into tokens, failing where the spec's strict
// tokenizer fails.
func tokenize(input string) ([]token, error) {
	var toks []token
	for i := 0; i < len(input); {
		r, size := utf8.DecodeRuneInString(input[i:])
		switch r {
		case '*':
			toks = append(toks, token{tokAsterisk, i, "*"})
		case '+', '?':
			toks = append(toks, token{tokModifier, i, string(r)})
		case '{':
			toks = append(toks, token{tokOpen, i, "{"})
		case '}':
			toks = append(toks, token{tokClose, i, "}"})
		case '\\':
			if i+1 >= len(input) {
				return nil, fmt.Errorf("trailing backslash at offset %d", i)
			}
			next, nsize := utf8.DecodeRuneInString(input[i+1:])
			toks = append(toks, token{tokEscaped, i, string(next)})
			i += 1 + nsize
			continue
		case ':':
			j := i + 1
			for j < len(input) {
				c, csize := utf8.DecodeRuneInString(input[j:])
				if !(j == i+1 && isNameStart(c) || j > i+1 && isNamePart(c)) {
					break
				}
				j += csize
			}
			if j == i+1 {
				return nil, fmt.Errorf("missing parameter name after ':' at offset %d", i)
			}
			toks = append(toks, token{tokName, i, input[i+1 : j]})
			i = j
			continue
		case '(':
			value, end, err := readRegexp(input, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokRegexp, i, value})
			i = end
			continue
		default:
			toks = append(toks, token{tokChar, i, input[i : i+size]})
		}
		i += size
	}
	return append(toks, token{tokEnd, len(input), ""}), nil
}

// readRegexp reads the custom regexp group whose "(" is at input[start] and
// returns its contents and the offset after its ")". As in the spec, it must
// be ASCII, must not start with "?" and must not hold capturing groups.
func readRegexp(input string, start int) (string, int, error) {
	depth := 1
	i := start + 1
	for i < len(input) {
		c := input[i]
		if c >= utf8.RuneSelf {
			return "", 0, fmt.Errorf("non-ASCII character in the regexp at offset %d", start)
		}
		if i == start+1 && c == '?' {
			return "", 0, fmt.Errorf("the regexp at offset %d starts with '?'", start)
		}
		switch c {
		case '\\':
			if i+1 >= len(input) || input[i+1] >= utf8.RuneSelf {
				return "", 0, fmt.Errorf("bad escape in the regexp at offset %d", start)
			}
			i += 2
			continue
		case ')':
			depth--
			if depth == 0 {
				if i == start+1 {
					return "", 0, fmt.Errorf("empty regexp at offset %d", start)
				}
				return input[start+1 : i], i + 1, nil
			}
		case '(':
			depth++
			if i+1 >= len(input) || input[i+1] != '?' {
				return "", 0, fmt.Errorf("capturing group inside the regexp at offset %d: use (?:…)", start)
			}
		}
		i++
	}
	return "", 0, fmt.Errorf("unterminated regexp at offset %d", start)
}

// isNameStart and isNamePart approximate JavaScript's identifier characters
// (ID_Start and ID_Continue, plus $ and _), which the spec uses for names.
func isNameStart(r rune) bool {
	return r == '$' || r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r)
}

func isNamePart(r rune) bool {
	return isNameStart(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Pc) ||
		r == '\u200c' || r == '\u200d'
}

type partType uint8

const (
	partFixed partType = iota
	partRegexp
	partSegment // :name
	partFull    // *
)

// part is one piece of a parsed pattern. A fixed part has only value and
// modifier.
type part struct {
	typ      partType
	value    string // the fixed text, or the custom regexp
	name     string
	prefix   string
	suffix   string
	modifier byte // 0, '?', '*' or '+'
}

// parser is the spec's pattern parser for a pathname.
type parser struct {
	toks    []token
	i       int
	parts   []part
	pending strings.Builder // fixed text not yet made a part
	numeric int             // the next name for an unnamed group
	names   map[string]bool
}

func parsePattern(input string) ([]part, error) {
	toks, err := tokenize(input)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, names: map[string]bool{}}
	for {
		char := p.consume(tokChar)
		name := p.consume(tokName)
		group := p.consumeRegexpOrWildcard(name)
		if name != nil || group != nil {
			prefix := ""
			if char != nil {
				prefix = char.value
			}
			if prefix != "" && prefix != "/" {
				p.pending.WriteString(prefix)
				prefix = ""
			}
			p.flushPending()
			if err := p.addPart(prefix, name, group, "", p.consumeModifier()); err != nil {
				return nil, err
			}
			continue
		}
		fixed := char
		if fixed == nil {
			fixed = p.consume(tokEscaped)
		}
		if fixed != nil {
			p.pending.WriteString(fixed.value)
			continue
		}
		if p.consume(tokOpen) != nil {
			prefix := p.consumeText()
			name := p.consume(tokName)
			group := p.consumeRegexpOrWildcard(name)
			suffix := p.consumeText()
			if p.consume(tokClose) == nil {
				return nil, p.unexpected("'}'")
			}
			if err := p.addPart(prefix, name, group, suffix, p.consumeModifier()); err != nil {
				return nil, err
			}
			continue
		}
		p.flushPending()
		if p.consume(tokEnd) == nil {
			return nil, p.unexpected("the end of the pattern")
		}
		return p.parts, nil
	}
}

func (p *parser) consume(typ tokenType) *token {
	if p.toks[p.i].typ != typ {
		return nil
	}
	p.i++
	return &p.toks[p.i-1]
}

func (p *parser) consumeModifier() *token {
	if t := p.consume(tokModifier); t != nil {
		return t
	}
	return p.consume(tokAsterisk)
}

func (p *parser) consumeRegexpOrWildcard(name *token) *token {
	if t := p.consume(tokRegexp); t != nil || name != nil {
		return t
	}
	return p.consume(tokAsterisk)
}

func (p *parser) consumeText() string {
	var b strings.Builder
	for {
		t := p.consume(tokChar)
		if t == nil {
			t = p.consume(tokEscaped)
		}
		if t == nil {
			return b.String()
		}
		b.WriteString(t.value)
	}
}

func (p *parser) unexpected(want string) error {
	t := p.toks[p.i]
	if t.typ == tokEnd {
		return fmt.Errorf("expected %s before the end of the pattern", want)
	}
	text := t.value
	switch t.typ {
	case tokName:
		text = ":" + text
	case tokRegexp:
		text = "(" + text + ")"
	}
	return fmt.Errorf("unexpected %q at offset %d, expected %s", text, t.index, want)
}

func (p *parser) flushPending() {
	if p.pending.Len() == 0 {
		return
	}
	p.parts = append(p.parts, part{typ: partFixed, value: p.pending.String()})
	p.pending.Reset()
}

func (p *parser) addPart(prefix string, name, group *token, suffix string, modTok *token) error {
	var modifier byte
	if modTok != nil {
		modifier = modTok.value[0]
	}
	if name == nil && group == nil && modifier == 0 {
		p.pending.WriteString(prefix)
		return nil
	}
	p.flushPending()
	if name == nil && group == nil {
		// {text}? : optional fixed text.
		if prefix != "" {
			p.parts = append(p.parts, part{typ: partFixed, value: prefix, modifier: modifier})
		}
		return nil
	}
	pt := part{typ: partSegment, prefix: prefix, suffix: suffix, modifier: modifier}
	if group != nil {
		switch {
		case group.typ == tokAsterisk || group.value == fullWildcard:
			pt.typ = partFull
		case group.value == segmentWildcard || group.value == `[^\/]+?`:
			pt.typ = partSegment
		default:
			pt.typ = partRegexp
			pt.value = group.value
		}
	}
	if name != nil {
		pt.name = name.value
	} else {
		pt.name = strconv.Itoa(p.numeric)
		p.numeric++
	}
	if p.names[pt.name] {
		return fmt.Errorf("duplicate parameter name %q", pt.name)
	}
	p.names[pt.name] = true
	p.parts = append(p.parts, pt)
	return nil
}

// generate writes the regular expression for parts, without anchors, and
// returns the parameter names in group order.
func generate(parts []part) (string, []string, error) {
	var b strings.Builder
	var names []string
	for _, pt := range parts {
		mod := ""
		if pt.modifier != 0 {
			mod = string(pt.modifier)
		}
		if pt.typ == partFixed {
			if mod == "" {
				b.WriteString(quote(pt.value))
			} else {
				b.WriteString("(?:" + quote(pt.value) + ")" + mod)
			}
			continue
		}
		names = append(names, pt.name)
		value := pt.value
		switch pt.typ {
		case partSegment:
			value = segmentWildcard
		case partFull:
			value = fullWildcard
		case partRegexp:
			if _, err := regexp.Compile(value); err != nil {
				return "", nil, fmt.Errorf("the regexp (%s) for %q is not supported: %w", value, pt.name, unwrapSyntax(err))
			}
		}
		single := pt.modifier == 0 || pt.modifier == '?'
		switch {
		case pt.prefix == "" && pt.suffix == "" && single:
			b.WriteString("(" + value + ")" + mod)
		case pt.prefix == "" && pt.suffix == "":
			b.WriteString("((?:" + value + ")" + mod + ")")
		case single:
			b.WriteString("(?:" + quote(pt.prefix) + "(" + value + ")" + quote(pt.suffix) + ")" + mod)
		default:
			// A repeated group with a prefix or suffix: the delimiters repeat
			// between the values, and the whole run is captured.
			b.WriteString("(?:" + quote(pt.prefix) + "((?:" + value + ")(?:" + quote(pt.suffix) + quote(pt.prefix) +
				"(?:" + value + "))*)" + quote(pt.suffix) + ")")
			if pt.modifier == '*' {
				b.WriteString("?")
			}
		}
	}
	return b.String(), names, nil
}

// unwrapSyntax drops the "error parsing regexp: " that Go puts in front of a
// syntax error, since the message already says what failed.
func unwrapSyntax(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		return errors.New(se.Code.String() + ": `" + se.Expr + "`")
	}
	return err
}

// quote escapes fixed text for a regexp, after percent-encoding it as a URL
// path (see encodePath).
func quote(s string) string { return regexp.QuoteMeta(encodePath(s)) }

// encodePath percent-encodes the characters a URL path cannot hold as they
// are (the WHATWG path percent-encode set: controls, space, " # < > ? ` { }
// and everything outside ASCII), as URLPattern does to a pattern's text.
// Request paths arrive encoded the same way. The escapes use lower-case hex:
// the request path is lower-cased before matching, so upper-case escapes
// (what URLPattern writes) would never match; in netlify-cli they do not.
func encodePath(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func needsEscape(c byte) bool {
	switch {
	case c < 0x20 || c >= 0x7f:
		return true
	}
	return strings.IndexByte(" \"#<>?`{}", c) >= 0
}
