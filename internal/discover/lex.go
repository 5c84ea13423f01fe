package discover

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// tokKind is the class of a token.
type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokIdent            // identifiers and keywords
	tokString           // '…' or "…"; text is the decoded value
	tokTemplate         // `…`; text is the decoded value when it has no ${}
	tokNumber           // numeric literal, as written
	tokRegexp           // regular expression literal, as written
	tokPunct            // operator or punctuator, as written
)

// token is one lexical token of JavaScript or TypeScript source.
type token struct {
	kind  tokKind
	text  string
	subst bool // a template literal with ${} substitutions
	// depth is how many (), [] and {} enclose the token. An opening bracket
	// and its closing partner share the depth of their surroundings.
	depth int
}

func (t token) is(kind tokKind, text string) bool { return t.kind == kind && t.text == text }
func (t token) punct(text string) bool            { return t.is(tokPunct, text) }
func (t token) ident(text string) bool            { return t.is(tokIdent, text) }

// tokenize splits JavaScript or TypeScript source into tokens. It is not a
// parser: it knows just enough of the lexical grammar (strings, template
// literals and their ${} parts, comments, regular expression literals) never
// to mistake text inside them for code, and it never fails. The result ends
// with lookahead tokEOF tokens, so readers may look a few tokens past any
// token that is not tokEOF without checking bounds.
func tokenize(src string) []token {
	l := &lexer{src: src, pos: len(src) - len(skipPrelude(src)), keep: true}
	// Real code averages about one token per five bytes; sizing the slice
	// up front saves most of the copying as it grows.
	l.toks = make([]token, 0, len(src)/5+lookahead)
	l.run(false)
	for range lookahead {
		l.toks = append(l.toks, token{kind: tokEOF})
	}
	return l.toks
}

// lookahead is how many tokens past a non-EOF token a reader may index.
const lookahead = 8

// skipPrelude returns src without a leading byte order mark and hashbang line.
func skipPrelude(src string) string {
	src = strings.TrimPrefix(src, "\ufeff")
	if strings.HasPrefix(src, "#!") {
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			return src[i:]
		}
		return ""
	}
	return src
}

type lexer struct {
	src   string
	pos   int
	depth int
	keep  bool // append tokens to toks; off inside a template's ${}
	toks  []token
	last  token // the previous token, for regexpAllowed
	any   bool  // whether there was a previous token
}

// multi-character punctuators, longest first. Only a few matter to the
// readers of the token stream ("=" against "=>" and "==", "!" against "!=",
// "." against "..."), but splitting the rest correctly costs nothing.
var puncts = []string{
	">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=",
	"=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>",
}

// run appends tokens until the end of the source or, when inTemplate is set,
// until the "}" that closes a template literal's ${ substitution.
func (l *lexer) run(inTemplate bool) {
	for {
		l.skipSpaceAndComments()
		if l.pos >= len(l.src) {
			return
		}
		c := l.src[l.pos]
		switch {
		case c == '"' || c == '\'':
			l.emit(tokString, l.lexString(c), false)
		case c == '`':
			text, subst := l.lexTemplate()
			l.emit(tokTemplate, text, subst)
		case isIdentStart(c):
			start := l.pos
			l.pos += identLen(l.src[l.pos:])
			l.emit(tokIdent, l.src[start:l.pos], false)
		case isDigit(c) || (c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1])):
			start := l.pos
			for l.pos < len(l.src) && (isIdentPart(l.src[l.pos]) || l.src[l.pos] == '.') {
				l.pos++
			}
			l.emit(tokNumber, l.src[start:l.pos], false)
		case c == '/' && l.regexpAllowed() && l.lexRegexp():
			// lexRegexp emitted the token.
		case c == '{' || c == '(' || c == '[':
			l.pos++
			l.emit(tokPunct, l.src[l.pos-1:l.pos], false)
			l.depth++
		case c == '}' || c == ')' || c == ']':
			if inTemplate && c == '}' && l.depth == 0 {
				l.pos++
				return
			}
			l.pos++
			if l.depth > 0 {
				l.depth--
			}
			l.emit(tokPunct, l.src[l.pos-1:l.pos], false)
		default:
			l.lexPunct()
		}
	}
}

func (l *lexer) emit(kind tokKind, text string, subst bool) {
	l.last = token{kind: kind, text: text, subst: subst, depth: l.depth}
	l.any = true
	if l.keep {
		l.toks = append(l.toks, l.last)
	}
}

func (l *lexer) skipSpaceAndComments() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			if i := strings.Index(l.src[l.pos+2:], "*/"); i >= 0 {
				l.pos += 2 + i + 2
			} else {
				l.pos = len(l.src)
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isUnicodeSpace(r) {
				return
			}
			l.pos += size
		default:
			return
		}
	}
}

func (l *lexer) lexPunct() {
	rest := l.src[l.pos:]
	for _, p := range puncts {
		if p[0] == rest[0] && strings.HasPrefix(rest, p) {
			l.pos += len(p)
			l.emit(tokPunct, p, false)
			return
		}
	}
	_, size := utf8.DecodeRuneInString(rest)
	l.pos += size
	l.emit(tokPunct, rest[:size], false)
}

// regexpKeywords are the keywords after which a "/" starts a regular
// expression rather than a division.
var regexpKeywords = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true,
	"new": true, "delete": true, "void": true, "throw": true, "case": true,
	"do": true, "else": true, "yield": true, "await": true,
}

// regexpAllowed guesses from the previous token whether a "/" here starts a
// regular expression. It is the usual heuristic; the only ambiguous case is
// after "}", taken as the end of a block (a statement may follow).
func (l *lexer) regexpAllowed() bool {
	if !l.any {
		return true
	}
	prev := l.last
	switch prev.kind {
	case tokIdent:
		return regexpKeywords[prev.text]
	case tokPunct:
		switch prev.text {
		case ")", "]", "++", "--":
			return false
		}
		return true
	}
	return false
}

// lexRegexp reads a regular expression literal at l.pos and emits it. It
// reports false, consuming nothing, when the line ends before the closing
// "/": then the "/" was a division after all.
func (l *lexer) lexRegexp() bool {
	i := l.pos + 1
	inClass := false
	for {
		if i >= len(l.src) || l.src[i] == '\n' || l.src[i] == '\r' {
			return false
		}
		c := l.src[i]
		i++
		switch {
		case c == '\\':
			i++
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		case c == '/' && !inClass:
			for i < len(l.src) && isIdentPart(l.src[i]) {
				i++
			}
			l.emit(tokRegexp, l.src[l.pos:i], false)
			l.pos = i
			return true
		}
	}
}

// lexString reads a quoted string at l.pos and returns its value. An
// unterminated string ends at the end of its line, which keeps a stray quote
// (an apostrophe in JSX text, say) from swallowing the rest of the file.
func (l *lexer) lexString(quote byte) string {
	// Fast path: most strings have no escapes and need no copy.
	for i := l.pos + 1; i < len(l.src); i++ {
		c := l.src[i]
		if c == quote {
			text := l.src[l.pos+1 : i]
			l.pos = i + 1
			return text
		}
		if c == '\\' || c == '\n' || c == '\r' {
			break
		}
	}
	var b strings.Builder
	i := l.pos + 1
	for i < len(l.src) {
		c := l.src[i]
		if c == quote {
			i++
			break
		}
		if c == '\n' || c == '\r' {
			break
		}
		if c == '\\' {
			i = decodeEscape(l.src, i+1, &b)
			continue
		}
		b.WriteByte(c)
		i++
	}
	l.pos = i
	return b.String()
}

// lexTemplate reads a template literal at l.pos, skipping the code inside its
// ${} parts with a nested lexer so that braces, strings and nested templates
// there are handled. It returns the decoded text and whether there were any
// substitutions.
func (l *lexer) lexTemplate() (string, bool) {
	var b strings.Builder
	subst := false
	i := l.pos + 1
	for i < len(l.src) {
		c := l.src[i]
		switch {
		case c == '`':
			l.pos = i + 1
			return b.String(), subst
		case c == '\\':
			i = decodeEscape(l.src, i+1, &b)
		case c == '$' && i+1 < len(l.src) && l.src[i+1] == '{':
			subst = true
			// Lex the substitution with a lexer that keeps no tokens: only
			// where it ends matters.
			inner := lexer{src: l.src, pos: i + 2}
			inner.run(true)
			i = inner.pos
		default:
			b.WriteByte(c)
			i++
		}
	}
	l.pos = i
	return b.String(), subst
}

// decodeEscape decodes the JavaScript escape sequence whose first character
// (after the backslash) is at src[i], writes its value to b and returns the
// index after it.
func decodeEscape(src string, i int, b *strings.Builder) int {
	if i >= len(src) {
		return i
	}
	c := src[i]
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case '0':
		b.WriteByte(0)
	case '\r':
		// Line continuation; \r\n counts as one line break.
		if i+1 < len(src) && src[i+1] == '\n' {
			return i + 2
		}
	case '\n':
		// Line continuation.
	case 'x':
		if i+3 <= len(src) {
			if v, err := strconv.ParseUint(src[i+1:i+3], 16, 8); err == nil {
				b.WriteRune(rune(v))
				return i + 3
			}
		}
		b.WriteByte('x')
	case 'u':
		r, next, ok := decodeUnicodeEscape(src, i+1)
		if !ok {
			b.WriteByte('u')
			break
		}
		// A surrogate pair is written as two \u escapes.
		if utf16.IsSurrogate(r) && strings.HasPrefix(src[next:], `\u`) {
			if r2, next2, ok := decodeUnicodeEscape(src, next+2); ok {
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					r, next = pair, next2
				}
			}
		}
		b.WriteRune(r)
		return next
	default:
		_, size := utf8.DecodeRuneInString(src[i:])
		b.WriteString(src[i : i+size])
		return i + size
	}
	return i + 1
}

// decodeUnicodeEscape decodes the hex digits of \uXXXX or \u{X…} starting at
// src[i] (just after the "u").
func decodeUnicodeEscape(src string, i int) (rune, int, bool) {
	if i < len(src) && src[i] == '{' {
		end := strings.IndexByte(src[i:], '}')
		if end < 0 {
			return 0, i, false
		}
		v, err := strconv.ParseUint(src[i+1:i+end], 16, 32)
		if err != nil || v > utf8.MaxRune {
			return 0, i, false
		}
		return rune(v), i + end + 1, true
	}
	if i+4 > len(src) {
		return 0, i, false
	}
	v, err := strconv.ParseUint(src[i:i+4], 16, 16)
	if err != nil {
		return 0, i, false
	}
	return rune(v), i + 4, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart reports whether c can start an identifier. Bytes of multi-byte
// UTF-8 sequences count, so non-ASCII identifiers stay whole; "#" starts a
// private name and "\" a Unicode escape.
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$' ||
		c == '#' || c == '\\' || c >= utf8.RuneSelf
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

// identLen returns the length of the identifier at the start of s, which
// ends at the first byte that cannot continue one or at a Unicode space.
func identLen(s string) int {
	i := 0
	for i < len(s) && isIdentPart(s[i]) {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isUnicodeSpace(r) {
			break
		}
		i += size
	}
	return i
}

// isUnicodeSpace reports whether r is one of the non-ASCII characters
// JavaScript treats as white space or a line break (the common ones: no-break
// space, byte order mark, line and paragraph separators).
func isUnicodeSpace(r rune) bool {
	return r == '\u00a0' || r == '\ufeff' || r == '\u2028' || r == '\u2029'
}
