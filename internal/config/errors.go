package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParseError is a syntax or type error in a configuration file (netlify.toml
// or a .env file), with the position it was found at. Line and Col are
// 1-based; 0 means unknown. Msg is one line, and errors about environment
// tables and .env files do not quote their values, which may be secrets.
type ParseError struct {
	File string // path as it should be shown to the user
	Line int
	Col  int
	Msg  string
}

// Error formats the error as file:line:col: msg, leaving out the parts that
// are unknown. Control characters in Msg (the parser quotes the text it
// choked on, which may hold a newline) are escaped, so the error stays on
// one line.
func (e *ParseError) Error() string {
	msg := oneLine(e.Msg)
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, msg)
	}
}

// oneLine escapes the control characters of s as Go does in a quoted
// string (a newline becomes \n), leaving everything else as it is.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
