// Package tomltype names the types of decoded TOML values and checks them,
// for the UnmarshalTOML methods of netlify.toml's and smoke files' leaf
// types: toml reports their errors with the key's line.
package tomltype

import (
	"fmt"
	"time"
)

// Name names the TOML type of a value decoded by BurntSushi/toml: "a
// string", "an array of tables".
func Name(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a datetime"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// Mismatch is the error for a value of the wrong type: "expected want, got
// a string".
func Mismatch(want string, got any) error {
	return fmt.Errorf("expected %s, got %s", want, Name(got))
}

// String is a string value that refuses any other type.
type String string

// UnmarshalTOML implements toml.Unmarshaler.
func (s *String) UnmarshalTOML(v any) error {
	str, ok := v.(string)
	if !ok {
		return Mismatch("a string", v)
	}
	*s = String(str)
	return nil
}
