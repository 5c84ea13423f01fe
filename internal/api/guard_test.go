package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	tests := []struct {
		name   string
		opts   GuardOptions
		method string
		url    string
		header map[string]string
		want   int
		body   string
	}{
		{"listen address", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://127.0.0.1:9999/.bgfn/api/info", nil, 200, "ok"},
		{"localhost", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://localhost:9999/.bgfn/", nil, 200, "ok"},
		{"ipv6 loopback", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://[::1]:9999/.bgfn/", nil, 200, "ok"},
		{"case", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://LocalHost:9999/.bgfn/", nil, 200, "ok"},
		{"rebinding", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://evil.example:9999/.bgfn/api/info", nil, 403, "--allowed-host evil.example"},
		{"other port", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://localhost:80/.bgfn/", nil, 403, "Host"},
		{"allowed name", GuardOptions{Listen: "127.0.0.1:9999", Allowed: []string{"dev.test"}}, "GET", "http://dev.test:9999/.bgfn/", nil, 200, "ok"},
		{"allowed name:port", GuardOptions{Listen: "127.0.0.1:9999", Allowed: []string{"proxy.test:443"}}, "GET", "http://proxy.test:443/.bgfn/", nil, 200, "ok"},
		{"0.0.0.0 listen", GuardOptions{Listen: "0.0.0.0:9999"}, "GET", "http://0.0.0.0:9999/.bgfn/", nil, 200, "ok"},
		{"cross-site POST", GuardOptions{Listen: "127.0.0.1:9999"}, "POST", "http://127.0.0.1:9999/.bgfn/api/invocations/x/cancel", map[string]string{"Origin": "http://evil.example"}, 403, "cross-origin POST"},
		{"cross-site fetch", GuardOptions{Listen: "127.0.0.1:9999"}, "POST", "http://127.0.0.1:9999/.bgfn/api/invocations/x/cancel", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-origin"},
		{"same-origin POST", GuardOptions{Listen: "127.0.0.1:9999"}, "POST", "http://127.0.0.1:9999/.bgfn/api/invocations/x/cancel", map[string]string{"Origin": "http://127.0.0.1:9999"}, 200, "ok"},
		{"no Origin (curl)", GuardOptions{Listen: "127.0.0.1:9999"}, "POST", "http://127.0.0.1:9999/.bgfn/api/invocations/x/cancel", nil, 200, "ok"},
		{"cross-site GET is answered, not readable", GuardOptions{Listen: "127.0.0.1:9999"}, "GET", "http://127.0.0.1:9999/.bgfn/api/info", map[string]string{"Origin": "http://evil.example"}, 200, "ok"},
		{"token missing", GuardOptions{Listen: "0.0.0.0:9999", Token: "t0k"}, "GET", "http://localhost:9999/.bgfn/api/info", nil, 401, "token"},
		{"token wrong", GuardOptions{Listen: "0.0.0.0:9999", Token: "t0k"}, "GET", "http://localhost:9999/.bgfn/api/info?token=no", nil, 401, "wrong token"},
		{"token in query", GuardOptions{Listen: "0.0.0.0:9999", Token: "t0k"}, "GET", "http://localhost:9999/.bgfn/api/info?token=t0k", nil, 200, "ok"},
		{"token in cookie", GuardOptions{Listen: "0.0.0.0:9999", Token: "t0k"}, "GET", "http://localhost:9999/.bgfn/", map[string]string{"Cookie": "bgfn_token=t0k"}, 200, "ok"},
		{"token as bearer", GuardOptions{Listen: "0.0.0.0:9999", Token: "t0k"}, "GET", "http://localhost:9999/.bgfn/", map[string]string{"Authorization": "Bearer t0k"}, 200, "ok"},
		{"token page redirect", GuardOptions{Listen: "0.0.0.0:9999", Token: "t0k"}, "GET", "http://localhost:9999/.bgfn/?token=t0k&kind=sync", map[string]string{"Accept": "text/html"}, 302, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.url, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rw := httptest.NewRecorder()
			Guard(ok, tt.opts).ServeHTTP(rw, req)
			if rw.Code != tt.want || !strings.Contains(rw.Body.String(), tt.body) {
				t.Errorf("%d %q, want %d with %q", rw.Code, rw.Body, tt.want, tt.body)
			}
			for k := range rw.Header() {
				if strings.HasPrefix(strings.ToLower(k), "access-control") {
					t.Errorf("CORS header %s sent", k)
				}
			}
			if tt.want == 302 {
				if loc := rw.Header().Get("Location"); loc != "/.bgfn/?kind=sync" {
					t.Errorf("redirect to %q, want the URL without the token", loc)
				}
				if c := rw.Header().Get("Set-Cookie"); !strings.Contains(c, "bgfn_token=t0k") || !strings.Contains(c, "HttpOnly") {
					t.Errorf("cookie %q", c)
				}
			}
		})
	}
}
