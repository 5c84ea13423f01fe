package blobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	npmfixture "github.com/bgfn-dev/bgfn/internal/fixture"
)

// The real @netlify/blobs client, installed from the npm registry by `npm
// ci` from the committed package.json and package-lock.json in
// testdata/blobsclient (11.x) and testdata/blobsclient8 (8.x). These tests
// never skip: without node and npm, or without the registry on a fresh
// machine, they fail and say why.

// npmCI installs a fixture's dependencies from its lockfile (once).
func npmCI(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH: the real @netlify/blobs client tests need Node.js and npm (install Node.js >= 20)")
	}
	if err := npmfixture.NPMInstall(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
}

// runClient starts a Server on a loopback port and runs a fixture's
// client.mjs against it with the values bgfn hands functions. It returns
// the store, for checks from Go afterwards.
func runClient(t *testing.T, fixture string) *Store {
	dir, err := filepath.Abs(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir)

	st := openStore(t)
	// Something written from Go, for the client to read.
	if _, err := st.Put(site, "site:a-store-from-go", "from/go", strings.NewReader(`{"written":"by go"}`), []byte(`{"by":"go"}`), Condition{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var serverErrs []string
	srv := NewServer(st, ServerOptions{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		serverErrs = append(serverErrs, strings.TrimSpace(fmt.Sprintf(format, args...)))
	}})
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BLOBS_URL="+srv.URL(),
		"BLOBS_TOKEN="+srv.Token(),
		"BLOBS_CONTEXT="+srv.Context(UnlinkedSiteID, LocalDeployID),
		"BLOBS_EVENT="+srv.EventBlobs(),
		"NETLIFY_BLOBS_CONTEXT=",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err != nil || lines[len(lines)-1] != "done" {
		t.Fatalf("node client.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("%s: %d checks passed", fixture, len(lines)-1)
	mu.Lock()
	defer mu.Unlock()
	if len(serverErrs) > 0 {
		t.Fatalf("the server failed requests (the client retried them):\n%s", strings.Join(serverErrs, "\n"))
	}
	return st
}

func TestRealClient(t *testing.T) {
	st := runClient(t, "blobsclient")
	// What the client wrote is where netlify's server would have put it,
	// and reads back from Go.
	for path, want := range map[string]string{
		"entries/unlinked/site:explicit/a%20b/caf%C3%A9": "odd",
		"entries/unlinked/site:envstore/k":               "from env",
		"metadata/unlinked/site:envstore/k":              `{"via":"context"}`,
		"entries/unlinked/deploy:0/k":                    "deploy via env",
		"entries/unlinked/deploy:0/v1k":                  "v1 deploy",
		"entries/unlinked/deploy:0:named/j":              "[1,2,3]",
		"entries/unlinked/site:lambda/dir/k2":            "x",
	} {
		b, err := os.ReadFile(filepath.Join(st.Dir(), filepath.FromSlash(path)))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	v, _ := read(t, st, "site:explicit", "a b/café")
	if v != "odd" {
		t.Errorf("Go reads %q", v)
	}
	assertNoTemp(t, st)
}

func TestRealClient8(t *testing.T) {
	st := runClient(t, "blobsclient8")
	if v, _ := read(t, st, "deploy:0:d8", "k"); v != "deploy" {
		t.Errorf("Go reads %q", v)
	}
}

// TestNetlifyServerInterop runs netlify's own BlobsServer, from the same
// installed package, on the folder a Store uses: what `netlify dev` stores
// reads back here with the same ETags, and what bgfn stores reads back
// there.
func TestNetlifyServerInterop(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "blobsclient"))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir)
	st := openStore(t)
	keys := []string{"plain", "a b/café", "dir/nested/x", "emoji😀", "it's (1)+[2]"}
	keysJSON, _ := json.Marshal(keys)
	node := func(mode string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", "interop.mjs", mode, st.Dir())
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "INTEROP_KEYS="+string(keysJSON))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node interop.mjs %s: %v\n%s%s", mode, err, out, stderr.String())
		}
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("node interop.mjs %s printed %q", mode, out)
		}
		return res
	}

	etags := node("write")["etags"].(map[string]any)
	for _, k := range keys {
		v, b := read(t, st, "site:shared", k)
		if v != "netlify:"+k {
			t.Errorf("%q = %q", k, v)
		}
		if want := fmt.Sprintf(`{"by":"netlify","key":%q}`, k); string(b.Metadata) != want {
			t.Errorf("%q metadata %s, want %s", k, b.Metadata, want)
		}
		if b.ETag != etags[k] {
			t.Errorf("%q etag %s here, %s from netlify's server", k, b.ETag, etags[k])
		}
		if v, _ := read(t, st, "deploy:0:dep", k); v != "deploy:"+k {
			t.Errorf("deploy store %q = %q", k, v)
		}
	}
	blobs, _, err := st.ListAll(site, "site:shared", ListOptions{})
	if err != nil || len(blobs) != len(keys) {
		t.Fatalf("list: %v %v", blobs, err)
	}
	if stores, _ := st.Stores(site); strings.Join(stores, ",") != "deploy:0:dep,site:shared" {
		t.Fatalf("stores %q", stores)
	}

	for _, k := range keys {
		if _, err := st.Put(site, "site:fromgo", k, strings.NewReader("go:"+k), []byte(fmt.Sprintf(`{"by":"go","key":%q}`, k)), Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	// netlify's own listing shows keys in their URL form (a quirk of its
	// server; bgfn lists the keys that were set): the same files.
	listed := fmt.Sprint(node("read")["listed"])
	if want := "[a%20b/caf%C3%A9 dir/nested/x emoji%F0%9F%98%80 it's%20(1)+[2] plain]"; listed != want {
		t.Fatalf("netlify's server lists %s, want %s", listed, want)
	}
}
