// Drives the real @netlify/blobs client against bgfn's Blobs server.
// client_test.go starts the server and passes, in the environment:
//   BLOBS_URL, BLOBS_TOKEN     the server and its token
//   BLOBS_CONTEXT              what bgfn puts in NETLIFY_BLOBS_CONTEXT
//   BLOBS_EVENT                what bgfn puts in event.blobs (v1)
// Each check prints "ok NAME"; the first failure throws, and node exits 1.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { connectLambda, getDeployStore, getStore, listStores } from '@netlify/blobs'

const url = process.env.BLOBS_URL
const token = process.env.BLOBS_TOKEN
const siteID = 'unlinked'
const explicit = { siteID, token, edgeURL: url, uncachedEdgeURL: url }
delete process.env.NETLIFY_BLOBS_CONTEXT

const check = async (name, fn) => {
  try {
    await fn()
  } catch (err) {
    console.error(`FAIL ${name}:`, err)
    process.exit(1)
  }
  console.log(`ok ${name}`)
}

const sha = (buf) => createHash('sha256').update(buf).digest('hex')

const store = getStore({ name: 'explicit', ...explicit })

await check('set and get text', async () => {
  await store.set('greeting', 'hello')
  assert.equal(await store.get('greeting'), 'hello')
  assert.equal(await store.get('missing'), null)
})

await check('keys with spaces and non-ASCII', async () => {
  await store.set('a b/café', 'odd')
  assert.equal(await store.get('a b/café'), 'odd')
  const { blobs } = await store.list({ prefix: 'a b/' })
  assert.deepEqual(blobs.map((b) => b.key), ['a b/café'])
})

await check('setJSON and get json', async () => {
  await store.setJSON('obj', { n: 1, list: [1, 2] })
  assert.deepEqual(await store.get('obj', { type: 'json' }), { n: 1, list: [1, 2] })
})

await check('binary', async () => {
  const bytes = new Uint8Array(256).map((_, i) => i)
  await store.set('bin', bytes)
  const got = new Uint8Array(await store.get('bin', { type: 'arrayBuffer' }))
  assert.deepEqual(got, bytes)
  const blob = await store.get('bin', { type: 'blob' })
  assert.equal(blob.size, 256)
})

await check('metadata', async () => {
  const res = await store.set('withmeta', 'v', { metadata: { author: 'ada', tags: ['x'], n: 2 } })
  assert.equal(res.modified, true)
  assert.match(res.etag, /^"[0-9a-f]{64}"$/)
  const got = await store.getWithMetadata('withmeta')
  assert.equal(got.data, 'v')
  assert.deepEqual(got.metadata, { author: 'ada', tags: ['x'], n: 2 })
  assert.equal(got.etag, res.etag)
  const head = await store.getMetadata('withmeta')
  assert.deepEqual(head, { etag: res.etag, metadata: { author: 'ada', tags: ['x'], n: 2 } })
  assert.equal(await store.getMetadata('missing'), null)
  assert.equal(await store.getWithMetadata('missing'), null)
  // Unchanged since the etag we hold: a 304, so no data.
  const cached = await store.getWithMetadata('withmeta', { etag: res.etag })
  assert.equal(cached.data, null)
  assert.equal(cached.etag, res.etag)
  const json = await store.getWithMetadata('obj', { type: 'json' })
  assert.deepEqual(json.data, { n: 1, list: [1, 2] })
  assert.deepEqual(json.metadata, {})
  // The client refuses metadata over 2 KB itself, and the server takes
  // everything up to that.
  await store.set('bigmeta', 'v', { metadata: { x: 'm'.repeat(1490) } })
  await assert.rejects(store.set('toobig', 'v', { metadata: { x: 'm'.repeat(1600) } }), /exceeds the maximum size/)
})

await check('list with prefix and directories', async () => {
  const s = getStore({ name: 'tree', ...explicit })
  for (const k of ['cats/garfield', 'cats/tom', 'catsuit', 'mice/jerry', 'mice/deep/mickey', 'pink']) {
    await s.set(k, k)
  }
  const all = await s.list()
  assert.deepEqual(all.blobs.map((b) => b.key), ['cats/garfield', 'cats/tom', 'catsuit', 'mice/deep/mickey', 'mice/jerry', 'pink'])
  assert.deepEqual(all.directories, [])
  assert.ok(all.blobs.every((b) => /^"[0-9a-f]{64}"$/.test(b.etag)))
  const top = await s.list({ directories: true })
  assert.deepEqual(top.blobs.map((b) => b.key), ['catsuit', 'pink'])
  assert.deepEqual(top.directories, ['cats', 'mice'])
  const mice = await s.list({ directories: true, prefix: 'mice/' })
  assert.deepEqual(mice.blobs.map((b) => b.key), ['mice/jerry'])
  assert.deepEqual(mice.directories, ['mice/deep'])
  const cats = await s.list({ prefix: 'cats/' })
  assert.deepEqual(cats.blobs.map((b) => b.key), ['cats/garfield', 'cats/tom'])
})

await check('pagination over 1,100 keys', async () => {
  const s = getStore({ name: 'many', ...explicit })
  const keys = Array.from({ length: 1100 }, (_, i) => `k${String(i).padStart(4, '0')}`)
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(keys.slice(i, i + 50).map((k) => s.set(k, k)))
  }
  const { blobs } = await s.list()
  assert.equal(blobs.length, 1100)
  assert.deepEqual(blobs.map((b) => b.key), keys)
  let pages = 0
  let seen = 0
  for await (const page of s.list({ paginate: true })) {
    pages++
    seen += page.blobs.length
  }
  assert.equal(pages, 2)
  assert.equal(seen, 1100)
  const res = await s.deleteAll()
  assert.equal(res.deletedBlobs, 1100)
  assert.equal((await s.list()).blobs.length, 0)
})

await check('delete', async () => {
  await store.set('doomed', 'x')
  await store.delete('doomed')
  assert.equal(await store.get('doomed'), null)
  await store.delete('doomed') // deleting nothing is fine
})

await check('onlyIfNew', async () => {
  const first = await store.set('once', 'first', { onlyIfNew: true })
  assert.equal(first.modified, true)
  assert.match(first.etag, /^"/)
  assert.deepEqual(await store.set('once', 'second', { onlyIfNew: true }), { modified: false })
  assert.deepEqual(await store.setJSON('once', { x: 1 }, { onlyIfNew: true }), { modified: false })
  assert.equal(await store.get('once'), 'first')
})

await check('onlyIfMatch', async () => {
  const { etag } = await store.set('cas', 'v1')
  const next = await store.set('cas', 'v2', { onlyIfMatch: etag })
  assert.equal(next.modified, true)
  assert.notEqual(next.etag, etag)
  assert.deepEqual(await store.set('cas', 'v3', { onlyIfMatch: etag }), { modified: false })
  assert.deepEqual(await store.setJSON('cas', 'v3', { onlyIfMatch: '"nope"' }), { modified: false })
  assert.deepEqual(await store.set('never-set', 'x', { onlyIfMatch: etag }), { modified: false })
  assert.equal(await store.get('cas'), 'v2')
})

await check('strong consistency', async () => {
  const strong = getStore({ name: 'explicit', ...explicit, consistency: 'strong' })
  await strong.set('fresh', 'now')
  assert.equal(await strong.get('fresh'), 'now')
  assert.equal(await store.get('fresh', { consistency: 'strong' }), 'now')
  const meta = await store.getMetadata('fresh', { consistency: 'strong' })
  assert.ok(meta.etag)
})

await check('50 MB value', async () => {
  const big = new Uint8Array(50 * 1024 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251
  await store.set('big', big)
  const stream = await store.get('big', { type: 'stream' })
  const h = createHash('sha256')
  let n = 0
  for await (const chunk of stream) {
    h.update(chunk)
    n += chunk.length
  }
  assert.equal(n, big.length)
  assert.equal(h.digest('hex'), sha(big))
  await store.delete('big')
})

await check('wrong token', async () => {
  const bad = getStore({ name: 'explicit', siteID, token: 'wrong', edgeURL: url })
  await assert.rejects(bad.get('greeting'), (err) => err.name === 'BlobsInternalError' && err.status === 403)
})

await check('getDeployStore with explicit options', async () => {
  const dep = getDeployStore({ name: 'dep', deployID: '0', region: 'us-east-1', ...explicit })
  await dep.set('k', 'deploy value')
  assert.equal(await dep.get('k'), 'deploy value')
  assert.deepEqual((await dep.list()).blobs.map((b) => b.key), ['k'])
  const plain = getDeployStore({ deployID: '0', region: 'us-east-1', ...explicit })
  await plain.set('k', 'unnamed deploy store')
  assert.equal(await plain.get('k'), 'unnamed deploy store')
  // A deploy store is not a site store of the same name.
  assert.equal(await getStore({ name: 'dep', ...explicit }).get('k'), null)
})

await check('listStores', async () => {
  const { stores } = await listStores(explicit)
  assert.deepEqual(stores, ['a-store-from-go', 'explicit', 'tree'])
})

await check('reads what Go wrote', async () => {
  const s = getStore({ name: 'a-store-from-go', ...explicit })
  const got = await s.getWithMetadata('from/go', { type: 'json' })
  assert.deepEqual(got.data, { written: 'by go' })
  assert.deepEqual(got.metadata, { by: 'go' })
})

// A v2 function: bgfn sets NETLIFY_BLOBS_CONTEXT.
process.env.NETLIFY_BLOBS_CONTEXT = process.env.BLOBS_CONTEXT

await check('NETLIFY_BLOBS_CONTEXT: getStore', async () => {
  const s = getStore('envstore')
  await s.set('k', 'from env', { metadata: { via: 'context' } })
  assert.deepEqual(await s.getWithMetadata('k'), { data: 'from env', etag: (await s.getMetadata('k')).etag, metadata: { via: 'context' } })
  assert.equal(await getStore('envstore', { consistency: 'strong' }).get('k'), 'from env')
})

await check('NETLIFY_BLOBS_CONTEXT: getDeployStore', async () => {
  const dep = getDeployStore()
  await dep.set('k', 'deploy via env')
  assert.equal(await dep.get('k'), 'deploy via env')
  assert.equal(await getDeployStore({ deployID: '0', region: 'us-east-1', ...explicit }).get('k'), 'deploy via env')
  const named = getDeployStore('named')
  await named.setJSON('j', [1, 2, 3])
  assert.deepEqual(await named.get('j', { type: 'json' }), [1, 2, 3])
  assert.equal(await getDeployStore({ name: 'named', consistency: 'strong' }).get('j', { type: 'json' }).then((v) => v.length), 3)
})

await check('NETLIFY_BLOBS_CONTEXT: listStores leaves deploy stores out', async () => {
  const { stores } = await listStores()
  assert.deepEqual(stores, ['a-store-from-go', 'envstore', 'explicit', 'tree'])
})

// A v1 function: no NETLIFY_BLOBS_CONTEXT, event.blobs and two headers.
delete process.env.NETLIFY_BLOBS_CONTEXT

await check('connectLambda', async () => {
  const event = {
    blobs: process.env.BLOBS_EVENT,
    headers: { 'x-nf-site-id': siteID, 'x-nf-deploy-id': '0' },
  }
  connectLambda(event)
  const s = getStore('lambda')
  await s.set('k', 'v1 value', { metadata: { fn: 'v1' } })
  assert.equal(await s.get('k'), 'v1 value')
  assert.deepEqual((await s.getWithMetadata('k')).metadata, { fn: 'v1' })
  await s.set('dir/k2', 'x')
  assert.deepEqual((await s.list({ directories: true })).directories, ['dir'])
  assert.deepEqual(await s.set('k', 'again', { onlyIfNew: true }), { modified: false })
  await s.delete('k')
  assert.equal(await s.get('k'), null)
  // connectLambda sets no uncachedEdgeURL and no region: these fail in
  // the package itself, on Netlify too.
  await assert.rejects(s.get('dir/k2', { consistency: 'strong' }), { name: 'BlobsConsistencyError' })
  assert.throws(() => getDeployStore(), /needs to be configured with a region/)
  const dep = getDeployStore({ region: 'us-east-2' })
  await dep.set('v1k', 'v1 deploy')
  assert.equal(await dep.get('v1k'), 'v1 deploy')
})

console.log('done')
