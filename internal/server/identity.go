package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// bearerClaims decodes the claims of an "Authorization: Bearer <JWT>"
// header without verifying its signature, as netlify-cli does: locally
// there is no Identity instance to check it against. A request without a
// bearer token, or with an opaque one (an API key, no JWT shape), gets nil
// and no problem, since such a token is not meant for Identity. A token
// shaped like a JWT (three dot-separated parts, or starting with "eyJ",
// base64 of `{"`) that does not decode gets nil and the reason.
func bearerClaims(r *http.Request) (claims map[string]any, problem string) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return nil, ""
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		if strings.HasPrefix(token, "eyJ") {
			return nil, "it has " + plural(len(parts), "part") + ", a JWT has 3 (header.payload.signature)"
		}
		return nil, ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, "its payload is not base64url"
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, "its payload is not a JSON object"
	}
	return claims, ""
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// identityOf is the identity context a request with a JWT gets, as
// netlify-cli builds it for v1: a fixed emulated endpoint and token.
func identityOf() map[string]any {
	return map[string]any{"url": identityURL, "token": identityToken}
}

// clientContextOf is v1 context.clientContext for claims: identity, user,
// and custom.netlify (base64 JSON of both), as netlify-cli sends.
func clientContextOf(claims map[string]any) json.RawMessage {
	identity := identityOf()
	netlify, _ := json.Marshal(map[string]any{"identity": identity, "user": claims})
	cc, err := json.Marshal(map[string]any{
		"identity": identity,
		"user":     claims,
		"custom":   map[string]any{"netlify": base64.StdEncoding.EncodeToString(netlify)},
	})
	if err != nil {
		return nil
	}
	return cc
}

// identityInfo is the x-nf-identity-info header value for a request with
// a JWT: base64 JSON {url, token, user}, which Netlify's v2 runtime
// decodes into globalThis.netlifyIdentityContext, where @netlify/identity
// reads it. The url is the site's own /.netlify/identity on this server
// (not netlify-cli's remote placeholder, so @netlify/identity's lookup of
// the full user stays local, gets a 404, and falls back to the claims, as
// it does offline) and the token the request's own JWT.
func identityInfo(r *http.Request, claims map[string]any) string {
	token := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	b, _ := json.Marshal(map[string]any{"url": "http://" + r.Host + "/.netlify/identity", "token": token, "user": claims})
	return base64.StdEncoding.EncodeToString(b)
}

// applyIdentity gives a synchronous invocation its identity: v1's
// clientContext and v2's x-nf-identity-info header (ev is not yet
// encoded). A malformed JWT gets a warning line, and the function runs
// without identity. Background functions get neither, as in production.
func (s *Server) applyIdentity(r *http.Request, ev *Event, fn *Function, background bool) json.RawMessage {
	if background {
		delete(ev.Headers, "x-nf-identity-info")
		delete(ev.MultiValueHeaders, "x-nf-identity-info")
		return nil
	}
	claims, problem := bearerClaims(r)
	if problem != "" {
		s.opts.Printer.Warning("function " + fn.Name + ": the request's Authorization Bearer token is not a valid JWT (" + problem + "); it runs without context.clientContext.user or x-nf-identity-info")
	}
	if claims == nil {
		return nil
	}
	v := identityInfo(r, claims)
	ev.Headers["x-nf-identity-info"] = v
	ev.MultiValueHeaders["x-nf-identity-info"] = []string{v}
	return clientContextOf(claims)
}
