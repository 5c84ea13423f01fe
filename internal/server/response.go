package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/runtime"
)

// lambdaResponse is the response object a handler returns.
type lambdaResponse struct {
	StatusCode        json.RawMessage            `json:"statusCode"`
	Headers           map[string]json.RawMessage `json:"headers"`
	MultiValueHeaders map[string]json.RawMessage `json:"multiValueHeaders"`
	Body              json.RawMessage            `json:"body"`
	IsBase64Encoded   bool                       `json:"isBase64Encoded"`
	// Metadata is what builder() from @netlify/functions adds:
	// {version, builder_function, ttl}.
	Metadata struct {
		BuilderFunction bool `json:"builder_function"`
	} `json:"metadata"`
}

// reply is a validated response ready to be written.
type reply struct {
	status int
	header http.Header
	body   []byte
	// builder is set when the handler is an on-demand builder (its result
	// carries metadata.builder_function).
	builder bool
}

// record is the answer as its invocation record keeps it: the first
// records.MaxResponseBody bytes of the body, base64 when it is not text.
func (r *reply) record() *records.Response {
	out := &records.Response{Status: r.status, BodySize: len(r.body)}
	if len(r.header) > 0 {
		out.Headers = make(map[string]string, len(r.header))
		for k, vs := range r.header {
			out.Headers[strings.ToLower(k)] = strings.Join(vs, ", ")
		}
	}
	b := r.body
	if len(b) > records.MaxResponseBody {
		b, out.BodyTruncated = b[:records.MaxResponseBody], true
	}
	if utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body, out.BodyBase64 = base64.StdEncoding.EncodeToString(b), true
	}
	return out
}

// responseError is a response Netlify rejects, with Netlify's message.
type responseError struct{ msg string }

func (e *responseError) Error() string { return e.msg }

// toReply validates a handler's result the way netlify-cli does and turns
// it into an HTTP response.
func toReply(res *runtime.Result) (*reply, error) {
	if res.Undefined {
		return nil, &responseError{"lambda response was undefined. check your function code again"}
	}
	raw := bytes.TrimSpace(res.Response)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, &responseError{"no lambda response. check your function code again. make sure to return a promise or use the callback."}
	}
	var lr lambdaResponse
	if raw[0] != '{' || json.Unmarshal(raw, &lr) != nil {
		return nil, &responseError{"Your function response must have a numerical statusCode. You gave: undefined"}
	}
	status, ok := numericStatus(lr.StatusCode)
	if !ok {
		return nil, &responseError{"Your function response must have a numerical statusCode. You gave: " + inspect(lr.StatusCode)}
	}
	var body []byte
	if len(lr.Body) > 0 && string(lr.Body) != "null" {
		var s string
		if json.Unmarshal(lr.Body, &s) != nil {
			return nil, &responseError{"Your function response must have a string or a stream body. You gave: " + inspect(lr.Body)}
		}
		if lr.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, &responseError{"Your function response has isBase64Encoded set but its body is not valid base64: " + err.Error()}
			}
			body = b
		} else {
			body = []byte(s)
		}
	}
	// Keys are taken in order, so that a response with two bad headers
	// always names the same one.
	h := http.Header{}
	for _, k := range slices.Sorted(maps.Keys(lr.Headers)) {
		vals, err := headerValues(lr.Headers[k])
		if err != nil {
			return nil, &responseError{fmt.Sprintf("Failed to set header %q: %v", k, err)}
		}
		h[http.CanonicalHeaderKey(k)] = vals
	}
	for _, k := range slices.Sorted(maps.Keys(lr.MultiValueHeaders)) {
		vals, err := headerValues(lr.MultiValueHeaders[k])
		if err != nil {
			return nil, &responseError{fmt.Sprintf("Failed to set header %q: %v", k, err)}
		}
		h[http.CanonicalHeaderKey(k)] = vals
	}
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			if !validHeaderValue(v) || !validHeaderName(k) {
				return nil, &responseError{fmt.Sprintf("Failed to set header %q: invalid header name or value", k)}
			}
		}
	}
	// Transfer-Encoding frames bgfn's connection, not the function's
	// answer: the body goes out as it is, so a function's "gzip" or
	// "chunked" would be a second, false framing that no client reads
	// (found by FuzzResponseReply). API Gateway does not pass a Lambda's on
	// either.
	delete(h, "Transfer-Encoding")
	if status < 100 || status > 999 {
		return nil, &responseError{fmt.Sprintf("Your function response must have a valid HTTP statusCode. You gave: %d", status)}
	}
	if status < 200 {
		// Go's server sends a 1xx as an interim answer and then a 200 the
		// function never asked for (found by FuzzResponseReply); Node's
		// sends it as the final answer without a body, and the client
		// waits for another. Neither is what the function meant.
		return nil, &responseError{fmt.Sprintf("Your function response must have a final HTTP statusCode (200 to 999); %d is an informational status that cannot answer a request", status)}
	}
	return &reply{status: status, header: h, body: body, builder: lr.Metadata.BuilderFunction}, nil
}

// contentLength is the Content-Length of the answer to method. The body
// frames the answer whatever the function's headers say: a Content-Length
// that disagrees with it cut the body off or left the client waiting, and
// two of them made the answer one no client reads (found by
// FuzzResponseReply). Only an answer to HEAD, which has no body, keeps the
// function's value, when it is one valid length: the length of its GET.
func (rep *reply) contentLength(method string) string {
	if vs := rep.header["Content-Length"]; method == http.MethodHead && len(vs) == 1 {
		if n, err := strconv.ParseUint(vs[0], 10, 63); err == nil {
			return strconv.FormatUint(n, 10)
		}
	}
	return strconv.Itoa(len(rep.body))
}

func numericStatus(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		if f == 0 || math.IsNaN(f) || f != math.Trunc(f) {
			return 0, false
		}
		return int(f), true
	}
	// Number("200") is 200 in JavaScript, and netlify-cli accepts it.
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n != 0 {
			return n, true
		}
	}
	return 0, false
}

func headerValues(raw json.RawMessage) ([]string, error) {
	// The usual case, a plain string without escapes, needs no decoding.
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 && bytes.IndexByte(raw[1:n-1], '"') < 0 {
		return []string{string(raw[1 : n-1])}, nil
	}
	if vals, ok := plainStrings(raw); ok {
		return vals, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var out []string
	var add func(v any) error
	add = func(v any) error {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		case bool:
			out = append(out, strconv.FormatBool(x))
		case []any:
			for _, e := range x {
				if err := add(e); err != nil {
					return err
				}
			}
		case nil:
			return fmt.Errorf("value is null")
		default:
			return fmt.Errorf("value must be a string, number or array, got %s", inspect(raw))
		}
		return nil
	}
	return out, add(v)
}

// plainStrings decodes the usual multiValueHeaders value, a JSON array of
// printable ASCII strings without escapes (["application/json"], as a v2
// function's answer has for every header), without encoding/json's
// reflection. Anything else (escapes, other bytes, white space, numbers,
// an empty array) reports false and is decoded in full.
func plainStrings(raw json.RawMessage) ([]string, bool) {
	n := len(raw)
	if n < 4 || raw[0] != '[' || raw[n-1] != ']' {
		return nil, false
	}
	out := make([]string, 0, bytes.Count(raw, []byte(`","`))+1)
	i := 1
	for {
		if raw[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < n-1 && raw[j] != '"' {
			if c := raw[j]; c < 0x20 || c >= 0x7f || c == '\\' {
				return nil, false
			}
			j++
		}
		if j >= n-1 {
			return nil, false
		}
		out = append(out, string(raw[i+1:j]))
		switch {
		case j+1 == n-1:
			return out, true
		case raw[j+1] == ',' && j+2 < n-1:
			i = j + 2
		default:
			return nil, false
		}
	}
}

// validHeaderValue rejects what Node's setHeader rejects: control bytes
// other than tab, and DEL.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// maxInspect bounds inspect's output: a function that returns a 6 MB
// object as its body gets an error message, not the object back.
const maxInspect = 1000

// inspect renders a JSON value roughly as Node's util.inspect would, for
// error messages about what a function returned, at most maxInspect bytes
// of it.
func inspect(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "undefined"
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return cut(string(raw), maxInspect)
	}
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		if b.Len() > maxInspect {
			return
		}
		switch x := v.(type) {
		case string:
			b.WriteString("'" + strings.ReplaceAll(x, "'", "\\'") + "'")
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteString("{ ")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(k + ": ")
				walk(x[k])
			}
			b.WriteString(" }")
		case []any:
			b.WriteString("[ ")
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(e)
			}
			b.WriteString(" ]")
		case nil:
			b.WriteString("null")
		default:
			fmt.Fprint(&b, x)
		}
	}
	walk(v)
	return cut(b.String(), maxInspect)
}

// cut shortens s to at most n bytes, on a character boundary, marking the
// cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
