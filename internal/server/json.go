package server

import (
	"bytes"
	"encoding/json"
	"sync"
	"unicode/utf8"
)

// jsonMarshal encodes v without HTML escaping (bodies reach functions as
// they were sent) and without the trailing newline.
func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// eventScratch holds the buffers background events are encoded into
// before they are copied out at their exact size.
var eventScratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// encodeEvent encodes ev for an invocation with a body of bodyLen bytes.
// A synchronous event lives as long as its request and is encoded into a
// buffer sized for the common case. A background event may wait in a
// queue for minutes, thousands of them: it is encoded into a pooled buffer
// and copied out at its exact size (a growing buffer would leave it up to
// a third unused).
func encodeEvent(ev *Event, bodyLen int, exact bool) []byte {
	if !exact {
		return appendEvent(make([]byte, 0, 1024+bodyLen*4/3), ev)
	}
	bp := eventScratch.Get().(*[]byte)
	b := appendEvent((*bp)[:0], ev)
	out := bytes.Clone(b)
	if cap(b) <= 1<<20 {
		*bp = b
		eventScratch.Put(bp)
	}
	return out
}

// appendEvent encodes ev as JSON, as encoding/json would with HTML
// escaping off but without reflection or sorting map keys: the event is
// encoded on every request.
func appendEvent(b []byte, ev *Event) []byte {
	b = append(b, `{"path":`...)
	b = appendString(b, ev.Path)
	b = append(b, `,"httpMethod":`...)
	b = appendString(b, ev.HTTPMethod)
	b = append(b, `,"headers":`...)
	b = appendStringMap(b, ev.Headers)
	b = append(b, `,"multiValueHeaders":`...)
	b = appendMultiMap(b, ev.MultiValueHeaders)
	b = append(b, `,"queryStringParameters":`...)
	b = appendStringMap(b, ev.QueryStringParameters)
	b = append(b, `,"multiValueQueryStringParameters":`...)
	b = appendMultiMap(b, ev.MultiValueQueryStringParameters)
	if ev.Body != nil {
		b = append(b, `,"body":`...)
		b = appendString(b, *ev.Body)
	}
	if ev.IsBase64Encoded {
		b = append(b, `,"isBase64Encoded":true`...)
	} else {
		b = append(b, `,"isBase64Encoded":false`...)
	}
	b = append(b, `,"rawUrl":`...)
	b = appendString(b, ev.RawURL)
	b = append(b, `,"rawQuery":`...)
	b = appendString(b, ev.RawQuery)
	if ev.Route != "" {
		b = append(b, `,"route":`...)
		b = appendString(b, ev.Route)
	}
	if ev.Blobs != "" {
		b = append(b, `,"blobs":`...)
		b = appendString(b, ev.Blobs)
	}
	if ev.RequestContext != nil {
		rc := ev.RequestContext
		b = append(b, `,"resource":"","requestContext":{"accountId":"","resourceId":"","stage":"dev","apiId":"","requestId":`...)
		b = appendString(b, rc.RequestID)
		b = append(b, `,"httpMethod":`...)
		b = appendString(b, rc.HTTPMethod)
		b = append(b, `,"path":`...)
		b = appendString(b, rc.Path)
		b = append(b, `,"resourcePath":`...)
		b = appendString(b, rc.Path)
		b = append(b, `,"requestTimeEpoch":`...)
		b = appendInt(b, rc.RequestTimeEpoch)
		b = append(b, `,"identity":{"sourceIp":`...)
		b = appendString(b, rc.SourceIP)
		b = append(b, `,"userAgent":`...)
		b = appendString(b, rc.UserAgent)
		b = append(b, `}}`...)
	}
	return append(b, '}')
}

func appendInt(b []byte, n int64) []byte {
	var tmp [20]byte
	i := len(tmp)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		tmp[i] = '-'
	}
	return append(b, tmp[i:]...)
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	first := true
	for k, v := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, v)
	}
	return append(b, '}')
}

func appendMultiMap(b []byte, m map[string][]string) []byte {
	b = append(b, '{')
	first := true
	for k, vs := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':', '[')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029
// escaped (as encoding/json does).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
