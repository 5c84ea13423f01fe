package textdist

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"hello", "hello", 0}, {"helo", "hello", 1}, {"hlelo", "hello", 2}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	names := []string{"hello", "send-email-background", "greet"}
	tests := []struct {
		got      string
		contains bool
		want     string
	}{
		{"helo", false, "hello"},
		{"HELLO", false, "hello"},
		{"send-email", true, "send-email-background"},
		{"send-email", false, ""},
		{"zzzzzz", false, ""},
		{"gret", false, "greet"},
		{"", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.got, func(t *testing.T) {
			if got := Nearest(tt.got, names, tt.contains); got != tt.want {
				t.Errorf("Nearest(%q, contains=%v) = %q, want %q", tt.got, tt.contains, got, tt.want)
			}
		})
	}
}
