package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/fixture"
)

// The Blobs figure (issue 14): set + get of a 1 KB value from a v2
// function at c10, against bgfn's Blobs server and against the one in
// @netlify/blobs (what netlify dev runs), in the same run. Both functions
// run in the same bgfn dev; only the server behind them differs.

// blobsFunction is the bench's v2 function; STORE_OPTIONS picks the
// server: bgfn's (no options: the context bgfn gives the invocation) or
// netlify's (explicit siteID, token and edgeURL, which win over it).
const blobsFunction = `import { getStore } from '@netlify/blobs'

const value = 'v'.repeat(1024)
let n = 0

export default async () => {
  const store = getStore(STORE_OPTIONS)
  const key = 'k' + (n++ % 100)
  await store.set(key, value)
  const got = await store.get(key)
  if (got !== value) return new Response('read back ' + (got === null ? 'null' : got.length + ' bytes'), { status: 500 })
  return new Response('ok')
}
`

// netlifyBlobsServer runs @netlify/blobs' own BlobsServer and prints its
// port.
const netlifyBlobsServer = `import { BlobsServer } from '@netlify/blobs/server'

const server = new BlobsServer({ directory: process.argv[2], token: 'bench-token' })
const { port } = await server.start()
console.log(port)
`

func (b *bench) blobs(ctx context.Context) error {
	const g = groupFeatures
	name := "blobs set+get 1 KB, v2 c10"
	if !b.cfg.Blobs {
		b.res.na(g, name, "skipped (-blobs=false)")
		return nil
	}
	site := filepath.Join(b.tmp, "blobs-site")
	if err := b.blobsSite(ctx, site); err != nil {
		b.res.na(g, name, err.Error())
		b.res.finding("the Blobs figure was not measured: %v", err)
		return nil
	}
	b.step("start @netlify/blobs' BlobsServer")
	ref := newProcess(ctx, "BlobsServer", b.node, filepath.Join(site, "blobs-server.mjs"), filepath.Join(b.tmp, "netlify-blobs"))
	ref.cmd.Dir = site
	port, err := startForLine(ctx, ref)
	if err != nil {
		return err
	}
	defer ref.stop()
	netlifyOpts := fmt.Sprintf(`{ name: 'bench', siteID: 'bench', token: 'bench-token', edgeURL: 'http://127.0.0.1:%s' }`, port)
	for fn, opts := range map[string]string{"blobs-bgfn": `'bench'`, "blobs-netlify": netlifyOpts} {
		src := strings.Replace(blobsFunction, "STORE_OPTIONS", opts, 1)
		if err := os.WriteFile(filepath.Join(site, "functions", fn+".mjs"), []byte(src), 0o644); err != nil {
			return err
		}
	}
	b.step("start bgfn dev on the Blobs site")
	inst, err := startBgfn(ctx, b.bin, site, filepath.Join(b.tmp, "bgfn-blobs.log"))
	if err != nil {
		return err
	}
	defer inst.proc.stop()
	rps := map[string]float64{}
	for _, fn := range []string{"blobs-bgfn", "blobs-netlify"} {
		if _, err := waitFor(ctx, inst.fn(fn), 200, time.Now(), 20*time.Millisecond, startTimeout); err != nil {
			return fmt.Errorf("%s: %w\nbgfn log:\n%s", fn, err, tail(inst.log, 15))
		}
		t := target{name: fn, url: inst.fn(fn), status: 200, want: []byte("ok")}
		b.step("%s c10", fn)
		if b.cfg.Warmup > 0 {
			if _, err := (load{target: t, concurrency: 10, duration: b.cfg.Warmup}).run(ctx); err != nil {
				return err
			}
		}
		r, err := load{target: t, concurrency: 10, duration: b.cfg.Duration}.run(ctx)
		if err != nil {
			return err
		}
		if r.Errors > 0 {
			b.res.finding("errors under load: %s: %d of %d requests failed (first: %s)", fn, r.Errors, r.Requests, r.FirstError)
		}
		rps[fn] = r.RPS()
		server := "bgfn's Blobs server"
		if fn == "blobs-netlify" {
			server = "@netlify/blobs' BlobsServer (netlify dev's)"
		}
		b.res.add(g, fmt.Sprintf("%s: %s", name, server), r.RPS(), "req/s", "higher",
			fmt.Sprintf("p50 %s, p99 %s, %d errors", fmtMs(r.P50), fmtMs(r.P99), r.Errors))
	}
	if n := rps["blobs-netlify"]; n > 0 {
		b.res.addTarget(g, name+": bgfn ÷ netlify's server", rps["blobs-bgfn"]/n, "x", "higher", 1, "same function, same bgfn dev; only the Blobs server differs")
	}
	return nil
}

// blobsSite makes the Blobs bench site: the fixture testdata/sites/blobs's
// package.json and lockfile, its node_modules (npm ci there once per
// lockfile, as the end-to-end tests do), and the reference server script.
func (b *bench) blobsSite(ctx context.Context, site string) error {
	fixtureDir := filepath.Join(b.root, "testdata", "sites", "blobs")
	if err := fixture.NPMInstall(ctx, fixtureDir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(site, "functions"), 0o755); err != nil {
		return err
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		if err := copyFile(filepath.Join(fixtureDir, f), filepath.Join(site, f)); err != nil {
			return err
		}
	}
	if err := os.Symlink(filepath.Join(fixtureDir, "node_modules"), filepath.Join(site, "node_modules")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(site, "netlify.toml"), []byte("[build]\n  functions = \"functions\"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(site, "blobs-server.mjs"), []byte(netlifyBlobsServer), 0o644)
}
