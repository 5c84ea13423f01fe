package exit

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain error", errors.New("x"), Failed},
		{"usage", With(Usage, errors.New("bad flag")), Usage},
		{"wrapped", fmt.Errorf("run: %w", With(Unavailable, errors.New("no node"))), Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.want {
				t.Errorf("Code = %d, want %d", got, tt.want)
			}
		})
	}
	if err := With(Usage, errors.New("bad flag")); err.Error() != "bad flag" {
		t.Errorf("Error() = %q", err)
	}
}
