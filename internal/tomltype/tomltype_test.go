package tomltype

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestName(t *testing.T) {
	tests := []struct {
		toml string
		want string
	}{
		{`v = "x"`, "a string"},
		{`v = 1`, "an integer"},
		{`v = 1.5`, "a float"},
		{`v = true`, "a boolean"},
		{`v = 1979-05-27T07:32:00Z`, "a datetime"},
		{`v = {a = 1}`, "a table"},
		{`v = [1, 2]`, "an array"},
		{"[[v]]\na = 1", "an array of tables"},
	}
	for _, tt := range tests {
		var m map[string]any
		if _, err := toml.Decode(tt.toml, &m); err != nil {
			t.Fatalf("decode %q: %v", tt.toml, err)
		}
		if got := Name(m["v"]); got != tt.want {
			t.Errorf("Name(%s) = %q, want %q", tt.toml, got, tt.want)
		}
	}
	if got := Name(time.Duration(1)); got != "time.Duration" {
		t.Errorf("Name of a non-TOML value = %q", got)
	}
}

func TestString(t *testing.T) {
	var ok struct{ V String }
	if _, err := toml.Decode(`V = "x"`, &ok); err != nil || ok.V != "x" {
		t.Errorf("a string: %q, %v", ok.V, err)
	}
	var bad struct{ V String }
	_, err := toml.Decode("\nV = 3", &bad)
	if want := "expected a string, got an integer"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("an integer: error %v, want one saying %q", err, want)
	}
}
