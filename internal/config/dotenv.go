package config

import (
	"strings"
)

// envVar is one assignment read from a .env file.
type envVar struct {
	Key   string
	Value string
}

// parseDotEnv parses the contents of a .env file. file is the name used in
// errors. The syntax is the common subset of the dotenv formats:
//
//	# a comment
//	KEY=value                 unquoted; whitespace around it is trimmed
//	export KEY=value          "export " is ignored
//	KEY=value # comment       a '#' at the start of an unquoted value or after
//	                          whitespace starts a comment
//	KEY='literal $value'      single (or back) quotes: taken as is
//	KEY="line1\nline2"        double quotes: \n \r \t \" \\ are unescaped
//	KEY="spans
//	lines"                    any quoted value may span lines
//
// Later assignments of the same key win. Unlike npm's dotenv (which skips
// lines it cannot read), a malformed line is an error, so that a typo does
// not silently drop a variable. Errors never quote the file's contents,
// which may be secret.
func parseDotEnv(file string, data []byte) ([]envVar, error) {
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")

	var vars []envVar
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], " \t")
		if strings.TrimSpace(line) == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimLeft(rest, " \t")
		}
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimRight(key, " \t")
		if !ok || !validEnvKey(key) {
			return nil, &ParseError{File: file, Line: start, Msg: "expected KEY=value"}
		}
		val = strings.TrimLeft(val, " \t")

		if val == "" || (val[0] != '"' && val[0] != '\'' && val[0] != '`') {
			vars = append(vars, envVar{Key: key, Value: unquotedValue(val)})
			continue
		}

		quote := val[0]
		body := val[1:]
		var b strings.Builder
		for {
			end := closingQuote(body, quote)
			if end >= 0 {
				b.WriteString(body[:end])
				if rest := strings.TrimSpace(body[end+1:]); rest != "" && rest[0] != '#' {
					return nil, &ParseError{File: file, Line: i + 1, Msg: "unexpected text after closing quote"}
				}
				break
			}
			b.WriteString(body)
			b.WriteByte('\n')
			i++
			if i >= len(lines) {
				return nil, &ParseError{File: file, Line: start, Msg: "unterminated quoted value"}
			}
			body = lines[i]
		}
		value := b.String()
		if quote == '"' {
			value = unescapeDouble(value)
		}
		vars = append(vars, envVar{Key: key, Value: value})
	}
	return vars, nil
}

// validEnvKey reports whether key is a name npm's dotenv accepts: one or more
// of [A-Za-z0-9_.-].
func validEnvKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// unquotedValue strips a trailing comment and surrounding whitespace.
func unquotedValue(val string) string {
	for i := 0; i < len(val); i++ {
		if val[i] == '#' && (i == 0 || val[i-1] == ' ' || val[i-1] == '\t') {
			val = val[:i]
			break
		}
	}
	return strings.TrimSpace(val)
}

// closingQuote returns the index in s of the quote that ends a value opened
// with quote, or -1. Inside double quotes a backslash escapes the next byte.
func closingQuote(s string, quote byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quote == '"':
			i++
		case s[i] == quote:
			return i
		}
	}
	return -1
}

// unescapeDouble expands the escapes allowed in a double-quoted value.
// Unknown escapes are kept as written.
func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
