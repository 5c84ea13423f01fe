package config

import "fmt"

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
// are unknown.
func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}
