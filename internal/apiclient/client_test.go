package apiclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/site"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	st, _ := records.NewStore(10, "")
	st.New(records.Spec{ID: "x1", Function: "f", Kind: "sync", MaxAttempts: 1}).Finish(records.Succeeded)
	serveFor := func(siteDir string) *httptest.Server {
		srv := httptest.NewServer(api.New(api.Options{Records: st, Info: api.Info{Site: siteDir}}))
		t.Cleanup(srv.Close)
		return srv
	}
	s := &site.Site{Config: &config.Config{SiteDir: dir, BaseDir: dir}}

	// No state file and nothing on the port.
	if u, ok := Find(context.Background(), s, 1); ok {
		t.Fatalf("found %s with nothing running", u)
	}
	// The state file names a server of this site.
	mine := serveFor(dir)
	if err := site.WriteState(dir, site.State{URL: mine.URL}); err != nil {
		t.Fatal(err)
	}
	if u, ok := Find(context.Background(), s, 1); !ok || u != mine.URL {
		t.Errorf("Find = %s, %v; want %s", u, ok, mine.URL)
	}
	// A server of another site is not used, from the state file or the port.
	other := serveFor("/another/site")
	site.WriteState(dir, site.State{URL: other.URL})
	port, _ := strconv.Atoi(other.URL[strings.LastIndex(other.URL, ":")+1:])
	if u, ok := Find(context.Background(), s, port); ok {
		t.Errorf("Find used %s, a server of another site", u)
	}
	os.Remove(site.StatePath(dir))

	c := &Client{Base: mine.URL}
	v, err := c.Invocation(context.Background(), "x1")
	if err != nil || v.Status != records.Succeeded {
		t.Errorf("Invocation = %+v, %v", v, err)
	}
	if v, err := c.Wait(context.Background(), "x1", 0); err != nil || v.ID != "x1" {
		t.Errorf("Wait = %+v, %v", v, err)
	}
	_, err = c.Invocation(context.Background(), "nope")
	if se, ok := err.(interface{ Unwrap() error }); !ok || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing invocation: %v (%T %v)", err, err, se)
	}
	if _, err := c.Replay(context.Background(), "nope", nil); err == nil {
		t.Error("replay of a missing invocation succeeded")
	} else if se, ok := err.(*StatusError); !ok || se.Status != http.StatusNotFound {
		t.Errorf("replay error = %v", err)
	}
}
