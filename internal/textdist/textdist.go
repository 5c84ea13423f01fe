package textdist

import "strings"

// Distance is the Levenshtein edit distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Nearest returns the name in names closest to got, ignoring case, when it
// is within max(2, len(got)/3) edits; else "". With contains, a name that
// contains got (a forgotten "-background") counts as distance 0. Ties go to
// the earlier name.
func Nearest(got string, names []string, contains bool) string {
	lower := strings.ToLower(got)
	best, bestD := "", 1<<30
	for _, n := range names {
		ln := strings.ToLower(n)
		d := Distance(lower, ln)
		if contains && strings.Contains(ln, lower) {
			d = 0
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" && bestD <= max(2, len(got)/3) {
		return best
	}
	return ""
}
