package server

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is the Netlify (Lambda API Gateway v1 style) event a function
// receives, with netlify-cli's field names and rules (reference §4).
type Event struct {
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	Body                            *string             `json:"body,omitempty"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
	RawURL                          string              `json:"rawUrl"`
	RawQuery                        string              `json:"rawQuery"`
	Route                           string              `json:"route,omitempty"`
	// Blobs is the Netlify Blobs context Netlify hands every invocation:
	// base64 JSON {url, url_uncached, token, primary_region}. v1 functions
	// pass the event to connectLambda; v2 ones get NETLIFY_BLOBS_CONTEXT
	// built from it.
	Blobs string `json:"blobs,omitempty"`
	// RequestContext is API Gateway's request context, which netlify-cli
	// adds for Go functions (aws-lambda-go's APIGatewayProxyRequest reads
	// it); JS functions get it too, harmlessly.
	RequestContext *RequestContext `json:"requestContext,omitempty"`
}

// RequestContext is the part of API Gateway's request context a local
// emulator can fill.
type RequestContext struct {
	RequestID        string
	HTTPMethod       string
	Path             string
	RequestTimeEpoch int64
	SourceIP         string
	UserAgent        string
}

// mockGeo is the x-nf-geo value functions see locally: a fixed location, as
// netlify-cli's --geo=mock gives, so code reading context.geo works offline.
var mockGeo = base64.StdEncoding.EncodeToString([]byte(`{"city":"San Francisco","country":{"code":"US","name":"United States"},"subdivision":{"code":"CA","name":"California"},"timezone":"America/Los_Angeles","latitude":37.7749,"longitude":-122.4194,"postalCode":"94103"}`))

// internalHeaders are Netlify's routing headers, removed before invocation
// as netlify-cli does.
var internalHeaders = []string{"x-nf-function-name", "x-nf-function-route", "x-netlify-original-pathname", "x-netlify-original-search"}

// newEvent builds the event for r, whose body has already been read.
func newEvent(r *http.Request, body []byte, id, siteID string) *Event {
	ev := &Event{
		Path:                            r.URL.EscapedPath(),
		HTTPMethod:                      r.Method,
		Headers:                         make(map[string]string, len(r.Header)+8),
		MultiValueHeaders:               make(map[string][]string, len(r.Header)+8),
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		RawQuery:                        r.URL.RawQuery,
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		ev.Headers[lk] = strings.Join(vs, ", ")
		ev.MultiValueHeaders[lk] = vs
	}
	for _, h := range internalHeaders {
		delete(ev.Headers, h)
		delete(ev.MultiValueHeaders, h)
	}
	set := func(k, v string) {
		ev.Headers[k] = v
		ev.MultiValueHeaders[k] = []string{v}
	}
	set("host", r.Host)
	ip := clientIP(r)
	set("client-ip", ip)
	set("x-nf-client-connection-ip", ip)
	set("x-nf-account-id", "")
	set("x-nf-site-id", siteID)
	set("x-nf-geo", mockGeo)
	set("x-nf-request-id", id)
	set("x-nf-deploy-context", "dev")
	set("x-nf-deploy-id", "0")

	for k, vs := range parseQuery(r.URL.RawQuery) {
		ev.QueryStringParameters[k] = strings.Join(vs, ", ")
		ev.MultiValueQueryStringParameters[k] = vs
	}
	ct := r.Header.Get("Content-Type")
	ev.IsBase64Encoded = shouldBase64Encode(ct)
	// netlify-cli leaves the body out when the request has no Content-Type;
	// bgfn keeps any body that was sent (base64, as production does).
	if len(body) > 0 {
		var s string
		if ev.IsBase64Encoded {
			s = base64.StdEncoding.EncodeToString(body)
		} else {
			s = string(body)
		}
		ev.Body = &s
	}
	ev.RequestContext = &RequestContext{
		RequestID: id, HTTPMethod: r.Method, Path: ev.Path,
		RequestTimeEpoch: time.Now().UnixMilli(), SourceIP: ip, UserAgent: r.Header.Get("User-Agent"),
	}
	ev.RawURL = "http://" + r.Host + ev.Path
	if ev.RawQuery != "" {
		ev.RawURL += "?" + ev.RawQuery
	}
	return ev
}

// parseQuery splits a query string as Node's querystring module does:
// on "&" only, "+" as a space, and a part that does not unescape is kept
// as it is instead of dropping the whole query.
func parseQuery(raw string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key := unescape(k)
		out[key] = append(out[key], unescape(v))
	}
	return out
}

// unescape decodes one query key or value. Escapes of bytes that are not
// UTF-8 (%FF) become U+FFFD here, as Node's querystring does, and not only
// when the event is encoded: otherwise ?%FF=a&%FE=b would be two keys that
// both encode as "\ufffd", and the function would see one of them at
// random (caught by FuzzRequestEvent's round trip).
func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		u = strings.ReplaceAll(s, "+", " ")
	}
	return validUTF8(u)
}

// validUTF8 replaces each byte of s that is not part of valid UTF-8 with
// U+FFFD, as the event's JSON encoding (and encoding/json) would.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func clientIP(r *http.Request) string {
	if xff := strings.Join(r.Header.Values("X-Forwarded-For"), ","); xff != "" {
		parts := strings.Split(xff, ",")
		return strings.TrimSpace(parts[len(parts)-1])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// shouldBase64Encode is Netlify's rule for which request bodies reach a
// function base64-encoded: everything but text-like content types, and an
// empty content type counts as binary.
func shouldBase64Encode(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	return !IsTextual(mt)
}

// IsTextual reports whether a media type (without parameters) is text.
func IsTextual(mt string) bool {
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return true
	}
	switch mt {
	case "application/csp-report", "application/graphql", "application/json", "application/javascript",
		"application/x-www-form-urlencoded", "application/x-ndjson", "application/xml":
		return true
	}
	return false
}

// identityURL is the fixed identity endpoint netlify-cli puts in
// clientContext when a request carries a JWT.
const identityURL = "https://netlify-dev-locally-emulated-identity.netlify.app/.netlify/identity"

// identityToken is a fixed, unsigned dummy token, as netlify-cli sends:
// locally nothing can verify a real one.
const identityToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb3VyY2UiOiJuZXRsaWZ5IGRldiIsInRlc3REYXRhIjoiTkVUTElGWV9ERVZfTE9DQUxMWV9FTVVMQVRFRF9JREVOVElUWSJ9.2eSDqUOZAOBsx39FHFePjYj12k0LrxldvGnlvDu3GMI"

// clientContext builds v1 context.clientContext from an
// "Authorization: Bearer <JWT>" header: the token's claims, decoded without
// verification, become the user. Nil when there is no such token.
func clientContext(r *http.Request) json.RawMessage {
	claims, _ := bearerClaims(r)
	if claims == nil {
		return nil
	}
	return clientContextOf(claims)
}
