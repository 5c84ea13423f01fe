package apiclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/blobs"
	"github.com/bgfn-dev/bgfn/internal/records"
)

func newServer(t *testing.T) (*Client, *records.Store) {
	t.Helper()
	st, err := records.NewStore(10, "")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blobs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	h := api.New(api.Options{
		Records: st,
		Functions: func() []api.Function {
			return []api.Function{{Name: "hello", Kind: "sync", Build: api.Build{State: api.BuildOK}}}
		},
		Config: func() api.Config { return api.Config{FunctionsDir: "/fns"} },
		Blobs:  blobs.NewAPI(bs, "unlinked"),
	})
	mux := http.NewServeMux()
	mux.Handle("/.bgfn/", h)
	mux.HandleFunc("/.netlify/functions/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Bgfn-Invocation-Id", "inv-big")
		w.Write([]byte(strings.Repeat("x", 1000)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &Client{Base: srv.URL}, st
}

func TestSiteMethods(t *testing.T) {
	ctx := context.Background()
	c, st := newServer(t)
	r := st.New(records.Spec{ID: "a1", Function: "hello", Kind: "sync", MaxAttempts: 1})
	r.Log(r.StartAttempt(), false, []byte("one"))
	r.Log(1, true, []byte("two"))
	r.Finish(records.Succeeded)
	st.New(records.Spec{ID: "b1", Function: "other", Kind: "background", MaxAttempts: 3})

	fns, err := c.Functions(ctx)
	if err != nil || len(fns) != 1 || fns[0].Name != "hello" || fns[0].Build.State != "ok" {
		t.Errorf("Functions = %+v, %v", fns, err)
	}
	cfg, err := c.Config(ctx)
	if err != nil || cfg.FunctionsDir != "/fns" {
		t.Errorf("Config = %+v, %v", cfg, err)
	}
	vs, err := c.Invocations(ctx, records.Filter{Function: "hello"})
	if err != nil || len(vs) != 1 || vs[0].ID != "a1" {
		t.Errorf("Invocations(hello) = %v, %v", vs, err)
	}
	vs, err = c.Invocations(ctx, records.Filter{Status: records.Queued, Limit: 5})
	if err != nil || len(vs) != 1 || vs[0].ID != "b1" {
		t.Errorf("Invocations(queued) = %v, %v", vs, err)
	}
	tail, err := c.Logs(ctx, records.TailQuery{Since: 1, HasSince: true})
	if err != nil || len(tail.Lines) != 1 || tail.Lines[0].Line != "two" || tail.Next != 2 {
		t.Errorf("Logs = %+v, %v", tail, err)
	}
	if _, err := c.Logs(ctx, records.TailQuery{Limit: 20000}); err == nil {
		t.Errorf("Logs with limit 20000: no error")
	} else if se := (*StatusError)(nil); !errors.As(err, &se) || !strings.Contains(se.Message(), "limit") {
		t.Errorf("Logs with limit 20000: %v", err)
	}

	req, _ := http.NewRequestWithContext(ctx, "GET", c.Base+"/.netlify/functions/big", nil)
	a, err := c.Call(req, 100)
	if err != nil || a.Status != 200 || len(a.Body) != 100 || a.Size != 1000 || !a.Truncated || a.ID != "inv-big" {
		t.Errorf("Call = %+v, %v", a, err)
	}
}

func TestBlobMethods(t *testing.T) {
	ctx := context.Background()
	c, _ := newServer(t)
	store := blobs.SiteStore("images")
	e, err := c.BlobSet(ctx, store, "cats/tom.txt", []byte("meow"), []byte(`{"by":"me"}`))
	if err != nil || e.Key != "cats/tom.txt" || e.Size != 4 {
		t.Fatalf("BlobSet = %+v, %v", e, err)
	}
	if _, err := c.BlobSet(ctx, store, "empty", nil, nil); err != nil {
		t.Fatalf("BlobSet of an empty value: %v", err)
	}
	b, err := c.BlobGet(ctx, store, "cats/tom.txt", 3)
	if err != nil || string(b.Data) != "meo" || !b.Truncated || b.Size != 4 || string(b.Metadata) != `{"by":"me"}` || b.ETag == "" {
		t.Fatalf("BlobGet = %+v, %v", b, err)
	}
	p, err := c.BlobList(ctx, store, "cats/", "", 0)
	if err != nil || len(p.Blobs) != 1 || p.Blobs[0].Key != "cats/tom.txt" {
		t.Fatalf("BlobList = %+v, %v", p, err)
	}
	stores, err := c.BlobStores(ctx)
	if err != nil || len(stores) != 1 || stores[0].Name != "images" {
		t.Fatalf("BlobStores = %+v, %v", stores, err)
	}
	if err := c.BlobDelete(ctx, store, "cats/tom.txt"); err != nil {
		t.Fatalf("BlobDelete: %v", err)
	}
	var se *StatusError
	if err := c.BlobDelete(ctx, store, "cats/tom.txt"); !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("second BlobDelete: %v, want a 404", err)
	}
	if _, err := c.BlobGet(ctx, store, "cats/tom.txt", 10); !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("BlobGet of a deleted key: %v, want a 404", err)
	}
}
