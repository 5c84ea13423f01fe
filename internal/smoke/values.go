package smoke

import (
	"fmt"
	"time"

	"github.com/bgfn-dev/bgfn/internal/tomltype"
)

// The leaf types of a smoke file. Their UnmarshalTOML checks the type, and
// toml reports an error from it with the key's line.

type tBool bool

func (b *tBool) UnmarshalTOML(v any) error {
	val, ok := v.(bool)
	if !ok {
		return tomltype.Mismatch("true or false", v)
	}
	*b = tBool(val)
	return nil
}

type tInt int64

func (n *tInt) UnmarshalTOML(v any) error {
	i, ok := v.(int64)
	if !ok {
		return tomltype.Mismatch("an integer", v)
	}
	*n = tInt(i)
	return nil
}

// tDuration is a Go duration written as a string: "500ms", "2s".
type tDuration time.Duration

func (d *tDuration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return tomltype.Mismatch(`a duration such as "500ms"`, v)
	}
	t, err := time.ParseDuration(s)
	if err != nil || t <= 0 {
		return fmt.Errorf(`invalid duration %q: use a positive duration such as "500ms" or "2s"`, s)
	}
	*d = tDuration(t)
	return nil
}

// tStrings is a string or an array of strings.
type tStrings []string

func (s *tStrings) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*s = []string{v}
		return nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("expected strings, element %d is %s", i, tomltype.Name(e))
			}
			out = append(out, str)
		}
		*s = out
		return nil
	}
	return tomltype.Mismatch("a string or an array of strings", v)
}

// tStringTable is a table of strings.
type tStringTable map[string]string

func (t *tStringTable) UnmarshalTOML(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return tomltype.Mismatch("a table of strings", v)
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		s, ok := m[k].(string)
		if !ok {
			return fmt.Errorf("%s: expected a string, got %s", k, tomltype.Name(m[k]))
		}
		out[k] = s
	}
	*t = out
	return nil
}

// tValue is any value.
type tValue struct{ v any }

func (t *tValue) UnmarshalTOML(v any) error {
	t.v = v
	return nil
}
