package ui

import (
	"hash/fnv"
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the styles bgfn prints with, bound to one stream's colour
// decision. With colour off every style renders its text unchanged.
type Styles struct {
	Color bool

	Bold    lipgloss.Style
	Dim     lipgloss.Style
	Success lipgloss.Style
	Failure lipgloss.Style
	Warning lipgloss.Style
	Accent  lipgloss.Style
	URL     lipgloss.Style

	fn []lipgloss.Style
}

// functionPalette holds the ANSI colours function prefixes cycle through;
// red is left out so a prefix never looks like an error.
var functionPalette = []string{"6", "5", "4", "3", "2", "14", "13", "12", "11", "10"}

// NewStyles returns the styles for a stream written through w.
func NewStyles(w io.Writer, color bool) *Styles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	s := &Styles{
		Color:   color,
		Bold:    r.NewStyle().Bold(true),
		Dim:     r.NewStyle().Faint(true),
		Success: r.NewStyle().Foreground(lipgloss.Color("2")),
		Failure: r.NewStyle().Foreground(lipgloss.Color("1")),
		Warning: r.NewStyle().Foreground(lipgloss.Color("3")),
		Accent:  r.NewStyle().Foreground(lipgloss.Color("6")),
		URL:     r.NewStyle().Foreground(lipgloss.Color("4")).Underline(true),
	}
	for _, c := range functionPalette {
		s.fn = append(s.fn, r.NewStyle().Foreground(lipgloss.Color(c)))
	}
	return s
}

// Function returns the style of a function's prefix: a colour hashed from
// the name, so it is the same across reloads and runs.
func (s *Styles) Function(name string) lipgloss.Style {
	h := fnv.New32a()
	h.Write([]byte(name))
	return s.fn[h.Sum32()%uint32(len(s.fn))]
}

// Render renders text with st, or returns it unchanged without colour.
// Calling it instead of st.Render avoids lipgloss's work on the hot path.
func (s *Styles) Render(st lipgloss.Style, text string) string {
	if !s.Color {
		return text
	}
	return st.Render(text)
}
