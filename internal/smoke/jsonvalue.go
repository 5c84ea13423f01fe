package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/tomltype"
)

// A JSON tree from the smoke file (a request's json body, an expected
// value) holds text at its string leaves, so it can use captured values,
// int64 and float64 numbers, bools, []any and map[string]any.

// fromTOML turns a decoded TOML value into a JSON tree.
func fromTOML(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return parseText(v)
	case int64, float64, bool:
		return v, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := fromTOML(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := fromTOML(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := fromTOML(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s has no JSON form: use a string", tomltype.Name(v))
}

// treeRefs lists the variables a tree refers to.
func treeRefs(v any) []string {
	switch v := v.(type) {
	case text:
		return v.refs()
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, treeRefs(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, k := range sortedKeys(v) {
			out = append(out, treeRefs(v[k])...)
		}
		return out
	}
	return nil
}

// expandTree returns the tree as plain JSON values, strings expanded.
func expandTree(v any, vars map[string]string) any {
	switch v := v.(type) {
	case text:
		return v.expand(vars)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = expandTree(e, vars)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = expandTree(e, vars)
		}
		return out
	}
	return v
}

// decodeJSON decodes a response body, keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

// lookup follows a dotted path (a.b.0.c: a number indexes an array) from
// a decoded body, and reports whether there is a value there.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, seg := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// match reports whether got (decoded with UseNumber) matches want (an
// expanded tree): objects match when every key of want matches (got may
// have more), arrays when they have the same length and every element
// matches, numbers when they are equal as numbers, strings and bools when
// they are equal. On a mismatch it returns the path below the starting
// point where it found it.
func match(want, got any) (ok bool, where string) {
	switch w := want.(type) {
	case map[string]any:
		g, isObj := got.(map[string]any)
		if !isObj {
			return false, ""
		}
		for _, k := range sortedKeys(w) {
			gv, has := g[k]
			if !has {
				return false, k
			}
			if ok, sub := match(w[k], gv); !ok {
				return false, join(k, sub)
			}
		}
		return true, ""
	case []any:
		g, isArr := got.([]any)
		if !isArr || len(g) != len(w) {
			return false, ""
		}
		for i := range w {
			if ok, sub := match(w[i], g[i]); !ok {
				return false, join(strconv.Itoa(i), sub)
			}
		}
		return true, ""
	case string:
		g, isStr := got.(string)
		return isStr && g == w, ""
	case bool:
		g, isBool := got.(bool)
		return isBool && g == w, ""
	case int64, float64:
		g, isNum := got.(json.Number)
		if !isNum {
			return false, ""
		}
		a, ok1 := new(big.Rat).SetString(string(g))
		b, ok2 := new(big.Rat).SetString(compact(w))
		return ok1 && ok2 && a.Cmp(b) == 0, ""
	}
	return false, ""
}

func join(a, b string) string {
	if b == "" {
		return a
	}
	return a + "." + b
}

// compact renders a JSON value on one line, without HTML escaping.
func compact(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// captureText is the text a captured JSON value stands for: a string as
// it is, anything else as compact JSON.
func captureText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return compact(v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
