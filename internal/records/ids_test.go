package records

import (
	"regexp"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := NewID()
		if !regexp.MustCompile(`^[0-9a-f]{20}$`).MatchString(id) {
			t.Fatalf("NewID() = %q, want 20 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		if id[:12] < prev {
			t.Fatalf("NewID() time part %q sorts before the previous %q", id[:12], prev)
		}
		seen[id], prev = true, id[:12]
	}
	tests := []struct{ id, want string }{
		{"0123456789abcdef0123", "cdef"},
		{"short", "short"},
	}
	for _, tt := range tests {
		if got := ShortID(tt.id); got != tt.want {
			t.Errorf("ShortID(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
