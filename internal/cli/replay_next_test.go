package cli

import (
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
)

func TestNextAttempt(t *testing.T) {
	tests := []struct {
		name     string
		attempts []records.Attempt
		want     int
	}{
		{"queued, never started", nil, 1},
		{"its first attempt has started", []records.Attempt{{N: 1, Status: records.Running}}, 1},
		{"interrupted during attempt 1", []records.Attempt{{N: 1, Status: records.Interrupted}}, 2},
		{"attempt 2 already started", []records.Attempt{{N: 1, Status: records.Interrupted}, {N: 2, Status: records.Running}}, 2},
		{"failed, then interrupted", []records.Attempt{{N: 1, Status: records.Failed}, {N: 2, Status: records.Interrupted}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextAttempt(tt.attempts); got != tt.want {
				t.Errorf("nextAttempt = %d, want %d", got, tt.want)
			}
		})
	}
}
