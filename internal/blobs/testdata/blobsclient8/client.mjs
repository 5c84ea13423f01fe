// Drives the real @netlify/blobs 8.x client against bgfn's Blobs server.
// 8.x speaks the same protocol as 11.x minus conditional writes and
// deleteAll; set() returns nothing and fails on anything but 200. The
// environment is the same as for ../blobsclient/client.mjs.
import assert from 'node:assert/strict'
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

const store = getStore({ name: 'eight', ...explicit })

await check('set, get, setJSON, binary', async () => {
  assert.equal(await store.set('t', 'text'), undefined)
  assert.equal(await store.get('t'), 'text')
  await store.setJSON('j', { a: [1] })
  assert.deepEqual(await store.get('j', { type: 'json' }), { a: [1] })
  const bytes = new Uint8Array([0, 1, 254, 255])
  await store.set('b', bytes)
  assert.deepEqual(new Uint8Array(await store.get('b', { type: 'arrayBuffer' })), bytes)
  assert.equal(await store.get('missing'), null)
})

await check('metadata and etags', async () => {
  await store.set('m', 'v', { metadata: { n: 8 } })
  const got = await store.getWithMetadata('m')
  assert.equal(got.data, 'v')
  assert.deepEqual(got.metadata, { n: 8 })
  assert.match(got.etag, /^"[0-9a-f]{64}"$/)
  assert.deepEqual(await store.getMetadata('m'), { etag: got.etag, metadata: { n: 8 } })
  const cached = await store.getWithMetadata('m', { etag: got.etag })
  assert.equal(cached.data, null)
})

await check('list and delete', async () => {
  for (const k of ['d/1', 'd/2', 'top']) await store.set(k, k)
  const top = await store.list({ directories: true })
  assert.deepEqual(top.directories, ['d'])
  assert.ok(top.blobs.some((b) => b.key === 'top'))
  assert.deepEqual((await store.list({ prefix: 'd/' })).blobs.map((b) => b.key), ['d/1', 'd/2'])
  await store.delete('top')
  assert.equal(await store.get('top'), null)
  assert.deepEqual((await listStores(explicit)).stores, ['a-store-from-go', 'eight'])
})

await check('strong consistency', async () => {
  assert.equal(await store.get('t', { consistency: 'strong' }), 'text')
})

await check('NETLIFY_BLOBS_CONTEXT', async () => {
  process.env.NETLIFY_BLOBS_CONTEXT = process.env.BLOBS_CONTEXT
  await getStore('env8').set('k', 'v')
  assert.equal(await getStore('env8').get('k'), 'v')
  const dep = getDeployStore('d8')
  await dep.set('k', 'deploy')
  assert.equal(await dep.get('k'), 'deploy')
  delete process.env.NETLIFY_BLOBS_CONTEXT
})

await check('connectLambda', async () => {
  connectLambda({ blobs: process.env.BLOBS_EVENT, headers: { 'x-nf-site-id': siteID, 'x-nf-deploy-id': '0' } })
  const s = getStore('lambda8')
  await s.set('k', 'v1', { metadata: { v: 1 } })
  assert.deepEqual(await s.getWithMetadata('k').then((r) => [r.data, r.metadata]), ['v1', { v: 1 }])
  await s.delete('k')
  assert.equal(await s.get('k'), null)
})

console.log('done')
