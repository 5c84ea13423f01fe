package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// TokenCookie is the cookie the runs page keeps its token in, once it was
// opened with ?token=.
const TokenCookie = "bgfn_token"

// GuardOptions configure Guard.
type GuardOptions struct {
	// Listen is the address the server listens on (host:port, as the
	// listener reports it).
	Listen string
	// Allowed are more Host values to answer (--allowed-host): a name,
	// which takes the listen port, or name:port.
	Allowed []string
	// Token, when set, must come with every request: as ?token= (the page
	// then keeps it in a cookie), the cookie, or Authorization: Bearer.
	// bgfn dev sets one when it listens beyond loopback.
	Token string
}

// NewToken returns a fresh random token (128 bits, hex).
func NewToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// IsLoopback reports whether host (a name or an address, without port) is
// only reachable from this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Guard wraps bgfn's own endpoints (all of /.bgfn/) so that only this
// machine's own pages and tools use them:
//
//   - the Host must be the listen address, localhost or 127.0.0.1 (or
//     [::1]) with the listen port, or one given with --allowed-host, else
//     403: a page on another site that rebinds its DNS name to 127.0.0.1
//     reaches the server with its own name as the Host, and learns nothing;
//   - a state-changing request (not GET, HEAD or OPTIONS) that a browser
//     marks as cross-origin (Origin not the Host, or Sec-Fetch-Site
//     cross-site) gets 403, so a form on another site cannot cancel or
//     replay; clients that send neither header (curl, bgfn) pass;
//   - with a token, a request without it gets 401.
//
// It sends no CORS headers, so other origins cannot read the answers.
// Function routes are not behind it: they are the user's application.
func Guard(next http.Handler, o GuardOptions) http.Handler {
	allowed := allowedHosts(o)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		guardError(w, http.StatusForbidden, "bgfn refuses a cross-origin "+r.Method+" to "+r.URL.Path+": its own page and API take state-changing requests only from "+hostOrigin(r)+" (or from clients that send no Origin, such as curl and bgfn)")
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			guardError(w, http.StatusForbidden, "bgfn answers "+r.URL.Path+" only for the Host it listens on (localhost, 127.0.0.1 or "+o.Listen+"), not "+quoteHost(r.Host)+": to reach it under another name, start bgfn dev with --allowed-host "+hostName(r.Host)+" (or listen there with --host)")
			return
		}
		if o.Token != "" && !tokenOK(w, r, o.Token) {
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// tokenOK checks the request's token. A page opened with ?token= gets the
// cookie and is sent on to the same URL without the token, so the token
// does not stay in the address bar or the history.
func tokenOK(w http.ResponseWriter, r *http.Request, token string) bool {
	eq := func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(token)) == 1 }
	if q := r.URL.Query().Get("token"); q != "" {
		if !eq(q) {
			guardError(w, http.StatusUnauthorized, "wrong token for bgfn: use the ?token= URL that bgfn dev printed at start-up")
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: token, Path: "/.bgfn/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		if r.Method == http.MethodGet && strings.HasPrefix(r.Header.Get("Accept"), "text/html") {
			u := *r.URL
			qs := u.Query()
			qs.Del("token")
			u.RawQuery = qs.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusFound)
			return false
		}
		return true
	}
	if c, err := r.Cookie(TokenCookie); err == nil && eq(c.Value) {
		return true
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && eq(a) {
		return true
	}
	guardError(w, http.StatusUnauthorized, "bgfn listens beyond this machine, so its page and API need the token it printed at start-up: open the ?token= URL from its banner, or send Authorization: Bearer TOKEN (bgfn's own commands read it from .netlify/bgfn/dev.json)")
	return false
}

// allowedHosts are the Host values Guard answers, lower-cased.
func allowedHosts(o GuardOptions) map[string]bool {
	host, port, err := net.SplitHostPort(o.Listen)
	if err != nil {
		host, port = o.Listen, ""
	}
	m := map[string]bool{}
	add := func(h string) {
		h = strings.ToLower(h)
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			h = "[" + h + "]"
		}
		m[h+":"+port] = true
	}
	for _, h := range []string{host, "localhost", "127.0.0.1", "::1"} {
		add(h)
	}
	for _, a := range o.Allowed {
		if _, _, err := net.SplitHostPort(a); err == nil {
			m[strings.ToLower(a)] = true
			continue
		}
		add(a)
	}
	return m
}

func hostOrigin(r *http.Request) string {
	return (&url.URL{Scheme: "http", Host: r.Host}).String()
}

func hostName(h string) string {
	if name, _, err := net.SplitHostPort(h); err == nil {
		return name
	}
	if h == "" {
		return "NAME"
	}
	return h
}

func quoteHost(h string) string {
	if h == "" {
		return "an empty Host"
	}
	return `"` + h + `"`
}

// guardError answers a refused request: JSON for API clients, a line of
// text for the rest. It sets no CORS header.
func guardError(w http.ResponseWriter, status int, msg string) {
	apiError(w, status, msg)
}
