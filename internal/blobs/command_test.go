package blobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// backends gives the same store behind both Backends: on disk, and
// through the JSON API of a (test) bgfn dev.
func backends(t *testing.T) map[string]func(*Store) Backend {
	return map[string]func(*Store) Backend{
		"disk": func(st *Store) Backend { return &diskBackend{st: st, site: site} },
		"http": func(st *Store) Backend {
			mux := http.NewServeMux()
			mux.Handle(APIPath+"/", NewAPI(st, site))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			return &httpBackend{base: srv.URL, client: srv.Client()}
		},
	}
}

func exitCode(err error) int {
	var ee *exit.Error
	if err != nil && !errors.As(err, &ee) {
		return -1 // an error without its exit code
	}
	return exit.Code(err)
}

func TestCommands(t *testing.T) {
	type step struct {
		name   string
		run    func(ctx context.Context, c *Command) error
		code   int
		stdout string // exact, unless it starts with "~" (substring)
		stderr string // substring
	}
	file := filepath.Join(t.TempDir(), "value.bin")
	os.WriteFile(file, []byte("from a file"), 0o644)
	out := filepath.Join(t.TempDir(), "out.bin")
	steps := []step{
		{"no stores yet", func(ctx context.Context, c *Command) error { return c.List(ctx, ListArgs{}) }, 0, "", "no site stores yet"},
		{"set text", func(ctx context.Context, c *Command) error {
			return c.Set(ctx, SetArgs{Store: "s", Key: "k", Data: "hello", DataSet: true, Metadata: `{"by":"cli"}`})
		}, 0, "", `set "k" in store "s" (5 bytes)`},
		{"set from a file", func(ctx context.Context, c *Command) error {
			return c.Set(ctx, SetArgs{Store: "s", Key: "dir/f", Data: "@" + file, DataSet: true})
		}, 0, "", "(11 bytes)"},
		{"set from stdin", func(ctx context.Context, c *Command) error {
			c.Streams.In.(*strings.Reader).Reset("piped\n")
			return c.Set(ctx, SetArgs{Store: "s", Key: "p", Data: "-", DataSet: true})
		}, 0, "", "(6 bytes)"},
		{"set empty", func(ctx context.Context, c *Command) error {
			return c.Set(ctx, SetArgs{Store: "s", Key: "empty", Data: "", DataSet: true})
		}, 0, "", "(0 bytes)"},
		{"set deploy", func(ctx context.Context, c *Command) error {
			c.Deploy = true
			return c.Set(ctx, SetArgs{Store: "", Key: "d", Data: "dv", DataSet: true})
		}, 0, "", `set "d"`},
		{"get", func(ctx context.Context, c *Command) error { return c.Get(ctx, "s", "k", "") }, 0, "hello", ""},
		{"get to a file", func(ctx context.Context, c *Command) error {
			if err := c.Get(ctx, "s", "dir/f", out); err != nil {
				return err
			}
			b, _ := os.ReadFile(out)
			fmt.Fprint(c.Streams.Out, string(b))
			return nil
		}, 0, "from a file", ""},
		{"get deploy", func(ctx context.Context, c *Command) error {
			c.Deploy = true
			return c.Get(ctx, "", "d", "")
		}, 0, "dv", ""},
		{"get missing", func(ctx context.Context, c *Command) error { return c.Get(ctx, "s", "nope", "") }, 1, "", ""},
		{"list stores", func(ctx context.Context, c *Command) error { return c.List(ctx, ListArgs{}) }, 0, "s\n", ""},
		{"list deploy stores", func(ctx context.Context, c *Command) error {
			c.Deploy = true
			return c.List(ctx, ListArgs{JSON: true})
		}, 0, "[\n  \"\"\n]\n", ""},
		{"list", func(ctx context.Context, c *Command) error { return c.List(ctx, ListArgs{Store: "s", HasStore: true}) }, 0, "~KEY    SIZE  LAST MODIFIED\ndir/f  11    ", ""},
		{"list prefix", func(ctx context.Context, c *Command) error {
			return c.List(ctx, ListArgs{Store: "s", HasStore: true, Prefix: "di", JSON: true})
		}, 0, "~\"key\": \"dir/f\",\n    \"size\": 11,", ""},
		{"list empty prefix", func(ctx context.Context, c *Command) error {
			return c.List(ctx, ListArgs{Store: "s", HasStore: true, Prefix: "zz"})
		}, 0, "", `no blobs in store "s" with prefix "zz"`},
		{"delete", func(ctx context.Context, c *Command) error { return c.Delete(ctx, "s", "k") }, 0, "", `deleted "k" from store "s"`},
		{"delete again", func(ctx context.Context, c *Command) error { return c.Delete(ctx, "s", "k") }, 1, "", ""},
		{"bad key", func(ctx context.Context, c *Command) error { return c.Get(ctx, "s", "../x", "") }, 2, "", ""},
		{"bad store", func(ctx context.Context, c *Command) error { return c.Get(ctx, "a/b", "k", "") }, 2, "", ""},
		{"no data", func(ctx context.Context, c *Command) error { return c.Set(ctx, SetArgs{Store: "s", Key: "k"}) }, 2, "", ""},
		{"bad metadata", func(ctx context.Context, c *Command) error {
			return c.Set(ctx, SetArgs{Store: "s", Key: "k", Data: "x", DataSet: true, Metadata: "[1]"})
		}, 2, "", ""},
		{"big metadata", func(ctx context.Context, c *Command) error {
			return c.Set(ctx, SetArgs{Store: "s", Key: "k", Data: "x", DataSet: true, Metadata: `{"x":"` + strings.Repeat("m", 2000) + `"}`})
		}, 2, "", ""},
		{"missing data file", func(ctx context.Context, c *Command) error {
			return c.Set(ctx, SetArgs{Store: "s", Key: "k", Data: "@/nonexistent", DataSet: true})
		}, 2, "", ""},
		{"prefix without store", func(ctx context.Context, c *Command) error { return c.List(ctx, ListArgs{Prefix: "x"}) }, 2, "", ""},
	}
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			be := mk(st)
			for _, s := range steps {
				streams, _, stdout, stderr := ui.Test()
				streams.In = strings.NewReader("")
				c := &Command{Streams: streams, Backend: be}
				err := s.run(t.Context(), c)
				if got := exitCode(err); got != s.code {
					t.Fatalf("%s: exit %d (%v), want %d", s.name, got, err, s.code)
				}
				if want, sub := strings.CutPrefix(s.stdout, "~"); sub {
					if !strings.Contains(stdout.String(), want) {
						t.Fatalf("%s: stdout %q does not contain %q", s.name, stdout, want)
					}
				} else if stdout.String() != s.stdout {
					t.Fatalf("%s: stdout %q, want %q", s.name, stdout, s.stdout)
				}
				if !strings.Contains(stderr.String(), s.stderr) {
					t.Fatalf("%s: stderr %q does not contain %q", s.name, stderr, s.stderr)
				}
			}
			v, b := read(t, st, "site:s", "p")
			if v != "piped\n" || b.Metadata == nil {
				t.Fatalf("p = %q %s", v, b.Metadata)
			}
		})
	}
}

// TestCommandUsesServer: with the site's bgfn dev serving the blobs API,
// commands go through it; otherwise (none, no API yet, gone) they use the
// folder. Which server is the site's is apiclient.Find's to decide.
func TestCommandUsesServer(t *testing.T) {
	siteDir := t.TempDir()
	st, err := Open(Dir(siteDir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newDev := func(withAPI bool) *httptest.Server {
		mux := http.NewServeMux()
		if withAPI {
			mux.Handle(APIPath+"/", NewAPI(st, UnlinkedSiteID))
		}
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv
	}
	tests := []struct {
		name   string
		server string
		want   string // "http" or "disk"
	}{
		{"no server", "", "disk"},
		{"a dev with the blobs API", newDev(true).URL, "http"},
		{"a dev without the blobs API", newDev(false).URL, "disk"},
		{"a dev that is gone", "http://127.0.0.1:1", "disk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, _ := ui.Test()
			c := &Command{Streams: streams, BaseDir: siteDir, Server: tt.server}
			be, done, err := c.backend(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			got := "disk"
			if _, ok := be.(*httpBackend); ok {
				got = "http"
			}
			if got != tt.want {
				t.Fatalf("backend %s, want %s", got, tt.want)
			}
			// Either way the command works on the same data.
			if err := c.Set(t.Context(), SetArgs{Store: "s", Key: tt.name, Data: "v", DataSet: true}); err != nil {
				t.Fatal(err)
			}
			if v, _ := read(t, st, "site:s", tt.name); v != "v" {
				t.Fatalf("value %q", v)
			}
		})
	}
}

// TestSiteID: a linked site's id comes from .netlify/state.json, as
// netlify-cli files its blobs under it.
func TestSiteID(t *testing.T) {
	dir := t.TempDir()
	if got := SiteID(dir); got != UnlinkedSiteID {
		t.Fatalf("unlinked site: %q", got)
	}
	os.MkdirAll(filepath.Join(dir, ".netlify"), 0o755)
	os.WriteFile(filepath.Join(dir, ".netlify", "state.json"), []byte(`{"siteId":"a1b2c3d4-0000-1111-2222-333344445555"}`), 0o644)
	if got := SiteID(dir); got != "a1b2c3d4-0000-1111-2222-333344445555" {
		t.Fatalf("linked site: %q", got)
	}
	os.WriteFile(filepath.Join(dir, ".netlify", "state.json"), []byte(`{"siteId":"../x/.."}`), 0o644)
	if got := SiteID(dir); got != UnlinkedSiteID {
		t.Fatalf("an id that is not a folder name: %q", got)
	}
}
