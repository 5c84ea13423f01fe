package ui_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

func TestColorDecision(t *testing.T) {
	tests := []struct {
		name           string
		mode           ui.ColorMode
		env            map[string]string
		outTTY, errTTY bool
		wantOut        bool
		wantErr        bool
	}{
		{name: "auto, both TTYs", mode: ui.ColorAuto, outTTY: true, errTTY: true, wantOut: true, wantErr: true},
		{name: "auto, no TTY", mode: ui.ColorAuto},
		{name: "auto, only stdout is a TTY", mode: ui.ColorAuto, outTTY: true, wantOut: true},
		{name: "auto, only stderr is a TTY", mode: ui.ColorAuto, errTTY: true, wantErr: true},
		{name: "always without a TTY", mode: ui.ColorAlways, wantOut: true, wantErr: true},
		{name: "always beats NO_COLOR", mode: ui.ColorAlways, env: map[string]string{"NO_COLOR": "1"}, wantOut: true, wantErr: true},
		{name: "always beats TERM=dumb", mode: ui.ColorAlways, env: map[string]string{"TERM": "dumb"}, wantOut: true, wantErr: true},
		{name: "never on TTYs", mode: ui.ColorNever, outTTY: true, errTTY: true},
		{name: "never beats CLICOLOR_FORCE", mode: ui.ColorNever, env: map[string]string{"CLICOLOR_FORCE": "1"}, outTTY: true, errTTY: true},
		{name: "NO_COLOR on TTYs", mode: ui.ColorAuto, env: map[string]string{"NO_COLOR": "1"}, outTTY: true, errTTY: true},
		{name: "NO_COLOR any non-empty value", mode: ui.ColorAuto, env: map[string]string{"NO_COLOR": "0"}, outTTY: true, errTTY: true},
		{name: "NO_COLOR empty is unset", mode: ui.ColorAuto, env: map[string]string{"NO_COLOR": ""}, outTTY: true, errTTY: true, wantOut: true, wantErr: true},
		{name: "NO_COLOR beats CLICOLOR_FORCE", mode: ui.ColorAuto, env: map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}},
		{name: "CLICOLOR_FORCE=1 without a TTY", mode: ui.ColorAuto, env: map[string]string{"CLICOLOR_FORCE": "1"}, wantOut: true, wantErr: true},
		{name: "CLICOLOR_FORCE=0 is off", mode: ui.ColorAuto, env: map[string]string{"CLICOLOR_FORCE": "0"}},
		{name: "CLICOLOR_FORCE beats TERM=dumb", mode: ui.ColorAuto, env: map[string]string{"CLICOLOR_FORCE": "1", "TERM": "dumb"}, wantOut: true, wantErr: true},
		{name: "TERM=dumb on TTYs", mode: ui.ColorAuto, env: map[string]string{"TERM": "dumb"}, outTTY: true, errTTY: true},
		{name: "TERM=xterm on TTYs", mode: ui.ColorAuto, env: map[string]string{"TERM": "xterm-256color"}, outTTY: true, errTTY: true, wantOut: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := ui.Test()
			s.SetColorMode(tt.mode)
			s.SetTTY(tt.outTTY, tt.errTTY)
			s.SetGetenv(func(k string) string { return tt.env[k] })
			if got := s.IsStdoutTTY(); got != tt.outTTY {
				t.Errorf("IsStdoutTTY() = %v, want %v", got, tt.outTTY)
			}
			if got := s.IsStderrTTY(); got != tt.errTTY {
				t.Errorf("IsStderrTTY() = %v, want %v", got, tt.errTTY)
			}
			if got := s.ColorOut(); got != tt.wantOut {
				t.Errorf("ColorOut() = %v, want %v", got, tt.wantOut)
			}
			if got := s.ColorErr(); got != tt.wantErr {
				t.Errorf("ColorErr() = %v, want %v", got, tt.wantErr)
			}
		})
	}
}

func TestTestStreamsDefaultToNoColor(t *testing.T) {
	s, _, _, _ := ui.Test()
	if s.ColorOut() || s.ColorErr() {
		t.Errorf("ui.Test() streams: ColorOut=%v ColorErr=%v, want no colour", s.ColorOut(), s.ColorErr())
	}
}

func TestParseColorMode(t *testing.T) {
	tests := []struct {
		in      string
		want    ui.ColorMode
		wantErr bool
	}{
		{in: "auto", want: ui.ColorAuto},
		{in: "always", want: ui.ColorAlways},
		{in: "never", want: ui.ColorNever},
		{in: "", wantErr: true},
		{in: "ALWAYS", wantErr: true},
		{in: "yes", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ui.ParseColorMode(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseColorMode(%q) = %q, want an error", tt.in, got)
				}
				if msg := err.Error(); !strings.Contains(msg, "auto, always or never") || msg != strings.ToLower(msg[:1])+msg[1:] {
					t.Errorf("error %q: want a lowercase message naming the valid values", msg)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseColorMode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// ansi matches SGR escape sequences.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestStylesRender(t *testing.T) {
	tests := []struct {
		name    string
		color   bool
		wantESC bool
	}{
		{name: "colour on", color: true, wantESC: true},
		{name: "colour off", color: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			st := ui.NewStyles(&buf, tt.color)
			for _, s := range []lipgloss.Style{st.Bold, st.Dim, st.Success, st.Failure, st.Warning, st.Accent, st.URL, st.Function("hello")} {
				got := st.Render(s, "text")
				if has := strings.Contains(got, "\x1b["); has != tt.wantESC {
					t.Errorf("Render = %q: has escape = %v, want %v", got, has, tt.wantESC)
				}
				if plain := ansi.ReplaceAllString(got, ""); plain != "text" {
					t.Errorf("Render = %q: without escapes %q, want %q", got, plain, "text")
				}
				if !tt.color && got != "text" {
					t.Errorf("Render without colour = %q, want the text unchanged", got)
				}
			}
		})
	}
}

func TestFunctionStyle(t *testing.T) {
	a := ui.NewStyles(&bytes.Buffer{}, true)
	b := ui.NewStyles(&bytes.Buffer{}, true)
	names := []string{"hello", "hello-background", "a", "b", "c", "send-email", "resize_image", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"}
	colours := map[lipgloss.TerminalColor]bool{}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			ca := a.Function(name).GetForeground()
			cb := b.Function(name).GetForeground()
			if ca != cb {
				t.Errorf("Function(%q) colour differs between two Styles: %v vs %v", name, ca, cb)
			}
			if ca != a.Function(name).GetForeground() {
				t.Errorf("Function(%q) colour is not stable", name)
			}
			if ca == lipgloss.Color("1") || ca == lipgloss.Color("9") {
				t.Errorf("Function(%q) is red (%v), which reads as an error", name, ca)
			}
			colours[ca] = true
		})
	}
	if len(colours) < 2 {
		t.Errorf("%d names all got the same colour", len(names))
	}
}
