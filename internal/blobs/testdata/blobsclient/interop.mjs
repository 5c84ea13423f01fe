// Runs netlify's own BlobsServer (the one `netlify dev` starts) on a folder
// that bgfn also uses, to show both read each other's data:
//   node interop.mjs write DIR   store INTEROP_KEYS through netlify's server
//   node interop.mjs read DIR    read back what Go stored, through it
// INTEROP_KEYS is a JSON array of keys. Prints one JSON object.
import assert from 'node:assert/strict'
import { BlobsServer } from '@netlify/blobs/server'
import { getDeployStore, getStore } from '@netlify/blobs'

const [mode, directory] = process.argv.slice(2)
const keys = JSON.parse(process.env.INTEROP_KEYS)
const token = 'interop'
const server = new BlobsServer({ directory, token })
const { port } = await server.start()
const opts = { siteID: 'unlinked', token, edgeURL: `http://127.0.0.1:${port}` }
const out = {}
try {
  if (mode === 'write') {
    const site = getStore({ name: 'shared', ...opts })
    const deploy = getDeployStore({ name: 'dep', deployID: '0', region: 'us-east-1', ...opts })
    out.etags = {}
    for (const k of keys) {
      const { etag } = await site.set(k, `netlify:${k}`, { metadata: { by: 'netlify', key: k } })
      out.etags[k] = etag
      await deploy.set(k, `deploy:${k}`)
    }
  } else {
    const s = getStore({ name: 'fromgo', ...opts })
    for (const k of keys) {
      const got = await s.getWithMetadata(k)
      assert.equal(got.data, `go:${k}`)
      assert.deepEqual(got.metadata, { by: 'go', key: k })
    }
    // netlify's own listing shows keys as they are on the wire.
    out.listed = (await s.list()).blobs.map((b) => b.key).sort()
  }
} finally {
  await server.stop()
}
console.log(JSON.stringify(out))
