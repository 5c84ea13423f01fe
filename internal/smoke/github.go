package smoke

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// GitHub reports each failed case as a GitHub Actions error annotation,
// which the workflow run and the pull request show at the case's line of
// the smoke file.
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
type GitHub struct {
	w         io.Writer
	workspace string
}

// NewGitHub returns a reporter writing workflow commands to w. Paths are
// made relative to workspace ($GITHUB_WORKSPACE, the repository's root),
// as annotations need.
func NewGitHub(w io.Writer, workspace string) *GitHub {
	return &GitHub{w: w, workspace: workspace}
}

// Start implements Reporter.
func (g *GitHub) Start(*Case) {}

// Finish implements Reporter.
func (g *GitHub) Finish(r *Result) {
	if r.Outcome != Failed && r.Outcome != Errored {
		return
	}
	var lines []string
	for _, d := range explain(r, false) {
		if d.depth == 0 {
			lines = append(lines, d.text)
		}
	}
	io.WriteString(g.w, Annotation(repoPath(r.Case.File, g.workspace), r.Case.Line, "bgfn smoke: "+r.Case.Name, strings.Join(lines, "\n"))+"\n")
}

// Annotation formats an ::error workflow command. Its properties and
// message are escaped as the runner expects (the rules of
// @actions/core's toCommandValue): % \r \n everywhere, and : , in
// properties.
func Annotation(file string, line int, title, msg string) string {
	return "::error file=" + escapeProperty(file) + ",line=" + strconv.Itoa(line) + ",title=" + escapeProperty(title) + "::" + escapeData(msg)
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// repoPath is file relative to the workspace, slash-separated, when it is
// inside it.
func repoPath(file, workspace string) string {
	if workspace != "" {
		if abs, err := filepath.Abs(file); err == nil {
			if rel, err := filepath.Rel(workspace, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(file)
}
