package dev

import (
	"net"
	"net/http"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/api"
)

// The runs page (issue 17): the guard in front of /.bgfn/, the redirect of
// a browser at the server's root, and the page's URL for the banner.

// tokenFor is the token /.bgfn/ asks for when bgfn listens on host: none
// on loopback, where only this machine reaches it, a fresh one otherwise.
func tokenFor(host string) string {
	if host == "" || api.IsLoopback(host) {
		return ""
	}
	return api.NewToken()
}

// guard puts h behind the Host/Origin/token checks (api.Guard).
func (i *Instance) guard(h http.Handler) http.Handler {
	return api.Guard(h, api.GuardOptions{Listen: i.ln.Addr().String(), Allowed: i.opts.AllowedHosts, Token: i.Token})
}

// PageURL is the runs page's address, with the token when there is one.
func (i *Instance) PageURL() string {
	u := i.URL + "/.bgfn/"
	if i.Token != "" {
		u += "?token=" + i.Token
	}
	return u
}

// bannerURL is the server's URL as the banner prints it: 0.0.0.0 is where
// bgfn listens, not an address to open, so the banner names localhost.
func (i *Instance) bannerPageURL() string {
	u := i.PageURL()
	host, port, err := net.SplitHostPort(i.ln.Addr().String())
	if err == nil && net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		u = strings.Replace(u, i.URL, "http://localhost:"+port, 1)
	}
	return u
}

// rootRedirect sends a browser that opens the server's root to the runs
// page, unless a function's route claims /: curl and other clients that
// do not ask for HTML get the server's own answer, as before.
func (i *Instance) rootRedirect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && isBrowser(r) {
			if _, _, _, claimed := i.reg.Route(r.Method, "/"); !claimed {
				http.Redirect(w, r, "/.bgfn/", http.StatusFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isBrowser reports whether r comes from a browser navigating to a page:
// it asks for HTML (curl sends */*), and says it is a navigation or has a
// browser's user agent.
func isBrowser(r *http.Request) bool {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		return false
	}
	return r.Header.Get("Sec-Fetch-Mode") == "navigate" || strings.HasPrefix(r.Header.Get("User-Agent"), "Mozilla/")
}
