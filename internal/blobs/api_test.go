package blobs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newAPI(t *testing.T) (*Store, *httptest.Server) {
	t.Helper()
	st := openStore(t)
	mux := http.NewServeMux()
	mux.Handle(APIPath+"/", NewAPI(st, site))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return st, srv
}

func TestAPI(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		body         string
		headers      []string
		status       int
		want         string // substring of the body
	}{
		{"stores", "GET", "/stores", "", nil, 200,
			`"stores":[{"id":"deploy:0","kind":"deploy","name":"","deployId":"0"},{"id":"deploy:0:cache","kind":"deploy","name":"cache","deployId":"0"},{"id":"site:s","kind":"site","name":"s"}]`},
		{"site id", "GET", "/stores", "", nil, 200, `"siteId":"unlinked"`},
		{"list", "GET", "/stores/site:s", "", nil, 200, `"key":"dir/x","size":1,`},
		{"list prefix", "GET", "/stores/site:s?prefix=k", "", nil, 200, `{"blobs":[{"key":"k","size":1,`},
		{"list directories", "GET", "/stores/site:s?directories=true", "", nil, 200, `"directories":["a b","dir"]`},
		{"list limit", "GET", "/stores/site:s?limit=1", "", nil, 200, `"nextCursor":"`},
		{"list bad limit", "GET", "/stores/site:s?limit=0", "", nil, 400, `"error":"invalid limit`},
		{"list bad store", "GET", "/stores/site:a%2Fb", "", nil, 400, `"error":"invalid store name`},
		{"value", "GET", "/stores/site:s/k", "", nil, 200, "v"},
		{"value with escapes", "GET", "/stores/site:s/a%20b/caf%C3%A9", "", nil, 200, "odd"},
		{"value meta", "GET", "/stores/site:s/k?meta=1", "", nil, 200, `"metadata":{"a":1}`},
		{"value meta none", "GET", "/stores/deploy:0/d?meta=1", "", nil, 200, `"metadata":{}`},
		{"value missing", "GET", "/stores/site:s/nope", "", nil, 404, `"error":"not found"`},
		{"put", "PUT", "/stores/site:s/new", "n", []string{meta(`{"m":1}`)}, 200, `"key":"new","size":1,`},
		{"put only-if-new", "PUT", "/stores/site:s/k", "n", []string{"If-None-Match: *"}, 412, `"error"`},
		{"put bad key", "PUT", "/stores/site:s/a%2F%2Fb", "n", nil, 400, `empty segments`},
		{"put conflict", "PUT", "/stores/site:s/k/x", "n", nil, 409, `"error"`},
		{"delete", "DELETE", "/stores/site:s/k", "", nil, 204, ""},
		{"delete missing", "DELETE", "/stores/site:s/nope", "", nil, 404, `"error":"no value for key \"nope\""`},
		{"delete store", "DELETE", "/stores/site:s", "", nil, 200, `{"deleted":3}`},
		{"unknown", "GET", "/other", "", nil, 404, `"error":"no such blobs API endpoint`},
		{"wrong method", "POST", "/stores/site:s/k", "", nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, srv := newAPI(t)
			seed(t, st)
			put(t, st, "site:s", "a b/café", "odd")
			put(t, st, "deploy:0:cache", "c", "c")
			req, _ := http.NewRequest(tt.method, srv.URL+APIPath+tt.path, strings.NewReader(tt.body))
			for _, h := range tt.headers {
				k, v, _ := strings.Cut(h, ": ")
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := bodyOf(t, resp)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%s %s = %d %s, want %d with %s", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
}

// TestAPIPages follows nextCursor.
func TestAPIPages(t *testing.T) {
	st, srv := newAPI(t)
	fill(t, st, "site:p", 5)
	var keys []string
	cursor := ""
	for range 10 {
		resp, err := http.Get(srv.URL + APIPath + "/stores/site:p?limit=2&cursor=" + cursor)
		if err != nil {
			t.Fatal(err)
		}
		var p APIPage
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		for _, b := range p.Blobs {
			keys = append(keys, b.Key)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(keys, ",") != "k0000,k0001,k0002,k0003,k0004" {
		t.Fatalf("keys %v", keys)
	}
}
