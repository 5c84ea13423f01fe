// Package ui owns the process's standard streams, the decision whether to
// colour them, and the styles bgfn prints with. Only this package touches
// os.Stdin, os.Stdout and os.Stderr.
package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// ColorMode is the --color flag: auto, always or never.
type ColorMode string

// Colour modes.
const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// ParseColorMode validates a --color value.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(s); m {
	case ColorAuto, ColorAlways, ColorNever:
		return m, nil
	}
	return "", fmt.Errorf("invalid --color %q: use auto, always or never", s)
}

// IOStreams are the streams a command reads and writes, with what is known
// about them. Human status and logs go to ErrOut; Out carries results.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY bool
	errTTY bool
	mode   ColorMode
	getenv func(string) string
}

// System returns the process's real streams.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		outTTY: term.IsTerminal(int(os.Stdout.Fd())),
		errTTY: term.IsTerminal(int(os.Stderr.Fd())),
		mode:   ColorAuto,
		getenv: os.Getenv,
	}
}

// Test returns streams backed by buffers, for tests. The TTY flags can be
// set with SetTTY.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, mode: ColorAuto, getenv: func(string) string { return "" }}, in, out, errOut
}

// SetTTY overrides whether stdout and stderr count as terminals.
func (s *IOStreams) SetTTY(out, errOut bool) { s.outTTY, s.errTTY = out, errOut }

// SetColorMode sets the --color mode.
func (s *IOStreams) SetColorMode(m ColorMode) { s.mode = m }

// SetGetenv replaces the environment lookup used for NO_COLOR and friends.
func (s *IOStreams) SetGetenv(f func(string) string) { s.getenv = f }

// IsStdoutTTY reports whether Out is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether ErrOut is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorOut reports whether to colour what is written to Out.
func (s *IOStreams) ColorOut() bool { return s.color(s.outTTY) }

// ColorErr reports whether to colour what is written to ErrOut.
func (s *IOStreams) ColorErr() bool { return s.color(s.errTTY) }

// color decides once per stream, following https://no-color.org and the
// CLICOLOR_FORCE convention: --color wins, then NO_COLOR, then
// CLICOLOR_FORCE, then TERM=dumb, then whether the stream is a terminal.
func (s *IOStreams) color(tty bool) bool {
	switch s.mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if s.getenv("NO_COLOR") != "" {
		return false
	}
	if v := s.getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	if s.getenv("TERM") == "dumb" {
		return false
	}
	return tty
}
