package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// The page's HTML, CSS and JS together stay under 150 KB (issue 17).
func TestPageSize(t *testing.T) {
	total := 0
	for _, name := range PageAssets {
		b, err := pageFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
	}
	t.Logf("the page's HTML, CSS and JS: %d bytes", total)
	if total >= 150<<10 {
		t.Errorf("the page is %d bytes, over 150 KB", total)
	}
}

func newPageHandler(t *testing.T) (*Handler, *records.Store) {
	t.Helper()
	st, err := records.NewStore(100, "")
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Records: st, Page: true}), st
}

// Every view renders, whole and as the live part the script swaps in, and
// what a function printed or sent is escaped.
func TestPageViews(t *testing.T) {
	h, st := newPageHandler(t)
	r := st.New(records.Spec{ID: "01a2b3c4d5e6f7a8b9c0", Function: "hello", Kind: "background", MaxAttempts: 3,
		Request: records.Request{Method: "POST", Path: "/.netlify/functions/hello", Query: "a=1", Headers: map[string]string{"content-type": "application/json", "x-nf-request-id": "x"}, Body: `{"name":"<b>Ada</b>"}`}})
	r.StartAttempt()
	r.Log(1, false, []byte("<script>alert(1)</script>"))
	for _, tt := range []struct{ path, want string }{
		{"/.bgfn/", `<tr data-id="01a2b3c4d5e6f7a8b9c0" data-state="running">`},
		{"/.bgfn/?partial=1", `1 of 1 runs, newest first`},
		{"/.bgfn/?kind=sync", `No runs match the filter.`},
		{"/.bgfn/runs/01a2b3c4d5e6f7a8b9c0", `&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"/.bgfn/runs/01a2b3c4d5e6f7a8b9c0?partial=1", `&#34;name&#34;: &#34;&lt;b&gt;Ada&lt;/b&gt;&#34;`},
		{"/.bgfn/functions", `No functions.`},
		{"/.bgfn/blobs", `no Netlify Blobs store`},
		{"/.bgfn/assets/app.js", `EventSource`},
	} {
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rw.Code != http.StatusOK || !strings.Contains(rw.Body.String(), tt.want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%s", tt.path, rw.Code, tt.want, rw.Body)
		}
		if strings.Contains(rw.Body.String(), "<script>alert") {
			t.Errorf("GET %s: a log line went out unescaped", tt.path)
		}
		if strings.Contains(tt.path, "partial") && strings.Contains(rw.Body.String(), "<html") {
			t.Errorf("GET %s: a partial answer has the whole page", tt.path)
		}
	}
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/.bgfn/runs/nope", nil))
	if rw.Code != http.StatusNotFound || !strings.Contains(rw.Body.String(), "No run nope") {
		t.Errorf("an unknown run: %d %s", rw.Code, rw.Body)
	}
}

func TestCopyCommands(t *testing.T) {
	v := &records.View{Function: "send-background", Kind: "background", Request: records.Request{Method: "POST", Path: "/.netlify/functions/send-background", Query: "x=1",
		Headers: map[string]string{"content-type": "application/json", "x-nf-request-id": "r", "host": "h", "x-team": "it's"}}}
	body := []byte(`{"to":"a@b.c"}`)
	if got, want := curlCommand("http://127.0.0.1:9999", v, body), `curl -i -X POST -H 'content-type: application/json' -H 'x-team: it'\''s' --data-binary '{"to":"a@b.c"}' 'http://127.0.0.1:9999/.netlify/functions/send-background?x=1'`; got != want {
		t.Errorf("curl:\n got %s\nwant %s", got, want)
	}
	if got, want := invokeCommand(v, body), `bgfn invoke send-background -q x=1 -H 'x-team: it'\''s' --data '{"to":"a@b.c"}' --wait`; got != want {
		t.Errorf("invoke:\n got %s\nwant %s", got, want)
	}
}
