package config

import (
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// For returns the settings that apply to the function called name: Defaults
// merged with every pattern that matches name, the way Netlify's
// zip-it-and-ship-it does it (zisi:config.ts, getFromMainConfig).
//
// Defaults count as the pattern "*". Matching patterns are applied from the
// least to the most specific, so the most specific one sets the scalars
// (node_bundler, schedule, background) and the arrays (included_files,
// external_node_modules) are concatenated in that order. Specificity is
// Netlify's weight: the number of characters that are not '*', minus one
// when the pattern has any '*'; so "hello" beats "hello*", which beats
// "hel*", which beats "*". Patterns of equal weight apply in file order.
//
// Netlify matches with minimatch; bgfn supports the subset that function
// names need: '*', '?', '[...]' classes and '\' escapes (path.Match), and
// '{a,b}' alternatives. Negation ("!x") and extglobs ("+(a|b)") are not
// supported; Load warns about the former and about malformed patterns.
func (f FunctionsConfig) For(name string) FunctionSettings {
	type match struct {
		weight   int
		settings FunctionSettings
	}
	matches := []match{{weight: patternWeight("*"), settings: f.Defaults}}
	for _, p := range f.Patterns {
		if matchPattern(p.Pattern, name) {
			matches = append(matches, match{weight: patternWeight(p.Pattern), settings: p.FunctionSettings})
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].weight < matches[j].weight })

	var out FunctionSettings
	for _, m := range matches {
		out.merge(m.settings)
	}
	return out
}

// merge applies s over f: set scalars replace, arrays are appended. The
// result shares no memory with s.
func (f *FunctionSettings) merge(s FunctionSettings) {
	if s.NodeBundler != "" {
		f.NodeBundler = s.NodeBundler
	}
	if s.Schedule != "" {
		f.Schedule = s.Schedule
	}
	if s.Background != nil {
		b := *s.Background
		f.Background = &b
	}
	if len(s.ExternalNodeModules) > 0 {
		f.ExternalNodeModules = slices.Concat(f.ExternalNodeModules, s.ExternalNodeModules)
	}
	if len(s.IncludedFiles) > 0 {
		f.IncludedFiles = slices.Concat(f.IncludedFiles, s.IncludedFiles)
	}
}

// patternWeight is zip-it-and-ship-it's specificity of a [functions] key.
func patternWeight(pattern string) int {
	stars := strings.Count(pattern, "*")
	w := utf8.RuneCountInString(pattern) - stars
	if stars > 0 {
		w--
	}
	return w
}

// matchPattern reports whether name matches pattern (see For for the
// syntax). A malformed pattern matches nothing.
func matchPattern(pattern, name string) bool {
	for _, alt := range expandBraces(pattern) {
		if ok, err := path.Match(alt, name); err == nil && ok {
			return true
		}
	}
	return false
}

// validPattern reports whether every alternative of pattern is well formed.
func validPattern(pattern string) bool {
	for _, alt := range expandBraces(pattern) {
		if _, err := path.Match(alt, ""); err != nil {
			return false
		}
	}
	return true
}

// maxBraceExpansions bounds expandBraces so that a pathological key cannot
// make loading slow.
const maxBraceExpansions = 256

// expandBraces expands "{a,b}" alternatives, nested or not, as minimatch
// does: "fn-{a,b{1,2}}" → fn-a, fn-b1, fn-b2. Braces without a top-level
// comma, unbalanced braces and escaped braces are kept as written. At most
// maxBraceExpansions alternatives are returned.
func expandBraces(pattern string) []string {
	var out []string
	expandBracesInto(pattern, &out)
	return out
}

// expandBracesInto appends the expansions of pattern to out. Every call
// either appends or recurses towards an append, and stops once out is full,
// so the work is bounded whatever the pattern.
func expandBracesInto(pattern string, out *[]string) {
	if len(*out) >= maxBraceExpansions {
		return
	}
	open, close, commas := findBraces(pattern)
	if open < 0 {
		*out = append(*out, pattern)
		return
	}
	prefix, suffix := pattern[:open], pattern[close+1:]
	last := open + 1
	for _, c := range append(commas, close) {
		expandBracesInto(prefix+pattern[last:c]+suffix, out)
		last = c + 1
	}
}

// findBraces returns the first brace pair with at least one comma at its
// own depth, and the positions of those commas; open is -1 when there is
// none.
func findBraces(s string) (open, close int, commas []int) {
	for start := 0; start < len(s); start++ {
		switch s[start] {
		case '\\':
			start++
			continue
		case '{':
		default:
			continue
		}
		depth := 0
		commas = commas[:0]
	scan:
		for i := start; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '{':
				depth++
			case ',':
				if depth == 1 {
					commas = append(commas, i)
				}
			case '}':
				depth--
				if depth == 0 {
					if len(commas) > 0 {
						return start, i, commas
					}
					break scan
				}
			}
		}
	}
	return -1, -1, nil
}
