// Every Blobs operation a v2 function uses, through the real
// @netlify/blobs client with no options: bgfn dev gives the invocation its
// context (NETLIFY_BLOBS_CONTEXT). Each check asserts; the answer lists
// the checks that ran, and a failed one is a 500 with its message.
import assert from 'node:assert/strict'
import { getDeployStore, getStore, listStores } from '@netlify/blobs'

export default async (req) => {
  const run = new URL(req.url).searchParams.get('run') ?? String(Date.now())
  const checks = []
  const check = async (name, fn) => {
    await fn()
    checks.push(name)
  }
  const store = getStore(`suite-${run}`)

  await check('text', async () => {
    await store.set('greeting', 'hello, blobs')
    assert.equal(await store.get('greeting'), 'hello, blobs')
  })
  await check('json', async () => {
    await store.setJSON('config', { a: 1, list: [1, 2, 3] })
    assert.deepEqual(await store.get('config', { type: 'json' }), { a: 1, list: [1, 2, 3] })
  })
  await check('binary', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i)
    await store.set('bytes', bytes)
    const got = new Uint8Array(await store.get('bytes', { type: 'arrayBuffer' }))
    assert.deepEqual(got, bytes)
  })
  await check('metadata', async () => {
    await store.set('with-meta', 'v', { metadata: { owner: 'ada', n: 7 } })
    const got = await store.getWithMetadata('with-meta')
    assert.equal(got.data, 'v')
    assert.deepEqual(got.metadata, { owner: 'ada', n: 7 })
    assert.match(got.etag, /^".+"$/)
    const meta = await store.getMetadata('with-meta')
    assert.deepEqual(meta.metadata, { owner: 'ada', n: 7 })
  })
  await check('missing', async () => {
    assert.equal(await store.get('no-such-key'), null)
  })
  await check('list', async () => {
    for (const k of ['dir/a', 'dir/b', 'dir/sub/c', 'other']) await store.set(k, k)
    const { blobs, directories } = await store.list({ prefix: 'dir/', directories: true })
    assert.deepEqual(blobs.map((b) => b.key).sort(), ['dir/a', 'dir/b'])
    assert.deepEqual(directories, ['dir/sub'])
    const all = await store.list({ prefix: 'dir/' })
    assert.deepEqual(all.blobs.map((b) => b.key).sort(), ['dir/a', 'dir/b', 'dir/sub/c'])
  })
  await check('pagination', async () => {
    const many = getStore(`many-${run}`)
    const keys = Array.from({ length: 1100 }, (_, i) => `k${String(i).padStart(4, '0')}`)
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => many.set(k, k)))
    }
    let pages = 0
    const seen = []
    for await (const page of many.list({ paginate: true })) {
      pages++
      seen.push(...page.blobs.map((b) => b.key))
    }
    assert.ok(pages >= 2, `${pages} page(s) for 1100 keys`)
    assert.deepEqual(seen.sort(), keys)
    const { blobs } = await many.list()
    assert.equal(blobs.length, 1100)
  })
  await check('delete', async () => {
    await store.set('doomed', 'x')
    await store.delete('doomed')
    assert.equal(await store.get('doomed'), null)
    await store.delete('never-was')
  })
  await check('onlyIfNew', async () => {
    const first = await store.set('once', '1', { onlyIfNew: true })
    assert.equal(first.modified, true)
    const second = await store.set('once', '2', { onlyIfNew: true })
    assert.equal(second.modified, false)
    assert.equal(await store.get('once'), '1')
  })
  await check('onlyIfMatch', async () => {
    const { etag } = await store.set('versioned', 'v1')
    const ok = await store.set('versioned', 'v2', { onlyIfMatch: etag })
    assert.equal(ok.modified, true)
    const stale = await store.set('versioned', 'v3', { onlyIfMatch: etag })
    assert.equal(stale.modified, false)
    assert.equal(await store.get('versioned'), 'v2')
  })
  await check('strong', async () => {
    const strong = getStore({ name: `suite-${run}`, consistency: 'strong' })
    await strong.set('fresh', 'now')
    assert.equal(await strong.get('fresh'), 'now')
    assert.equal(await store.get('fresh', { consistency: 'strong' }), 'now')
  })
  await check('deploy', async () => {
    const deploy = getDeployStore(`deploy-${run}`)
    await deploy.set('artifact', 'built')
    assert.equal(await deploy.get('artifact'), 'built')
  })
  await check('stores', async () => {
    const { stores } = await listStores()
    assert.ok(stores.includes(`suite-${run}`), `stores: ${stores}`)
  })
  if (new URL(req.url).searchParams.has('large')) {
    await check('50MB', async () => {
      const size = 50 << 20
      const big = new Uint8Array(size)
      for (let i = 0; i < size; i += 4096) big[i] = (i / 4096) & 0xff
      await store.set('large', big)
      const got = new Uint8Array(await store.get('large', { type: 'arrayBuffer' }))
      assert.equal(got.length, size)
      for (let i = 0; i < size; i += 4096) assert.equal(got[i], (i / 4096) & 0xff)
    })
  }
  return Response.json({ ok: true, checks })
}
