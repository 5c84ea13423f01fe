package smoke

import "strings"

// diffLine is one line of a diff: ' ' both, '-' only expected, '+' only
// got, '~' lines left out.
type diffLine struct {
	op   byte
	text string
}

// diffContext is how many unchanged lines a diff keeps around a change.
const diffContext = 3

// maxDiffCells bounds the work of the line diff (expected lines × got
// lines); beyond it the diff shows both sides whole, cut.
const maxDiffCells = 1 << 18

// lineDiff compares two texts line by line (a longest common subsequence)
// and keeps diffContext unchanged lines around each change.
func lineDiff(want, got string) []diffLine {
	a, b := splitLines(want), splitLines(got)
	if len(a)*len(b) > maxDiffCells {
		var out []diffLine
		for _, l := range cut(a, 20) {
			out = append(out, diffLine{'-', l})
		}
		for _, l := range cut(b, 20) {
			out = append(out, diffLine{'+', l})
		}
		return out
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []diffLine
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			all = append(all, diffLine{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			all = append(all, diffLine{'-', a[i]})
			i++
		default:
			all = append(all, diffLine{'+', b[j]})
			j++
		}
	}
	return trimContext(all)
}

// trimContext replaces runs of unchanged lines far from any change with
// one '~' line.
func trimContext(all []diffLine) []diffLine {
	keep := make([]bool, len(all))
	for i, l := range all {
		if l.op == ' ' {
			continue
		}
		for k := max(0, i-diffContext); k <= min(len(all)-1, i+diffContext); k++ {
			keep[k] = true
		}
	}
	var out []diffLine
	for i, l := range all {
		switch {
		case keep[i]:
			out = append(out, l)
		case len(out) == 0 || out[len(out)-1].op != '~':
			out = append(out, diffLine{'~', "…"})
		}
	}
	return out
}

// noNewline marks, as git does, a text whose last line has no newline: a
// body diff must show that difference too.
const noNewline = `\ no newline at the end`

// splitLines splits s into lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		return lines[:len(lines)-1]
	}
	return append(lines, noNewline)
}

func cut(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], "…")
}
