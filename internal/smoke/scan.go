package smoke

import (
	"regexp"
	"strings"
)

// caseHeader matches a [[case]] header line.
var caseHeader = regexp.MustCompile(`^\s*\[\[\s*(?:case|"case"|'case')\s*\]\]\s*(?:#.*)?$`)

// caseHeaders returns the 1-based line of every [[case]] header in src, in
// order. Lines inside multi-line strings are not headers. toml's metadata
// keeps one position per key, the last, for every element of an array of
// tables; cutting the file at these lines lets each case be decoded on its
// own, with the positions of its own keys.
func caseHeaders(src string) []int {
	var lines []int
	st := outside
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if st == outside && caseHeader.MatchString(line) {
			lines = append(lines, i+1)
			continue
		}
		st = scanLine(line, st)
	}
	return lines
}

// scanState is where a line ends: outside strings, or inside a multi-line
// basic string (three double quotes) or literal string (three single
// quotes).
type scanState int

const (
	outside scanState = iota
	inBasic
	inLiteral
)

// scanLine follows TOML's strings and comments through one line.
func scanLine(line string, st scanState) scanState {
	for i := 0; i < len(line); {
		switch st {
		case inBasic:
			switch {
			case line[i] == '\\':
				i += 2
			case strings.HasPrefix(line[i:], `"""`):
				st, i = outside, closeQuotes(line, i, '"')
			default:
				i++
			}
		case inLiteral:
			if strings.HasPrefix(line[i:], `'''`) {
				st, i = outside, closeQuotes(line, i, '\'')
			} else {
				i++
			}
		default:
			switch {
			case line[i] == '#':
				return outside
			case strings.HasPrefix(line[i:], `"""`):
				st, i = inBasic, i+3
			case strings.HasPrefix(line[i:], `'''`):
				st, i = inLiteral, i+3
			case line[i] == '"':
				i++
				for i < len(line) && line[i] != '"' {
					if line[i] == '\\' {
						i++
					}
					i++
				}
				i++
			case line[i] == '\'':
				j := strings.IndexByte(line[i+1:], '\'')
				if j < 0 {
					return outside
				}
				i += j + 2
			default:
				i++
			}
		}
	}
	return st
}

// closeQuotes skips the three quotes that close a multi-line string at i
// and up to two more, which belong to its content.
func closeQuotes(line string, i int, q byte) int {
	i += 3
	for k := 0; k < 2 && i < len(line) && line[i] == q; k++ {
		i++
	}
	return i
}
