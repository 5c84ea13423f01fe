// The v1 side of Blobs: connectLambda(event) reads event.blobs and the
// x-nf-site-id / x-nf-deploy-id headers. As in production, a v1 function
// has no NETLIFY_BLOBS_CONTEXT of its own, and connectLambda sets neither
// an uncached URL nor a region, so strong reads and deploy stores throw.
const assert = require('node:assert/strict')
const { connectLambda, getStore, getDeployStore } = require('@netlify/blobs')

exports.handler = async (event) => {
  const before = process.env.NETLIFY_BLOBS_CONTEXT
  connectLambda(event)
  const run = event.queryStringParameters.run || String(Date.now())
  const store = getStore(`v1-${run}`)
  const checks = []
  const check = async (name, fn) => {
    await fn()
    checks.push(name)
  }
  await check('no context before connectLambda', async () => assert.equal(before, undefined))
  await check('text', async () => {
    await store.set('k', 'from v1')
    assert.equal(await store.get('k'), 'from v1')
  })
  await check('metadata', async () => {
    await store.set('m', 'v', { metadata: { by: 'v1' } })
    assert.deepEqual((await store.getWithMetadata('m')).metadata, { by: 'v1' })
  })
  await check('list', async () => {
    await store.set('dir/x', 'x')
    const { blobs } = await store.list({ prefix: 'dir/' })
    assert.deepEqual(blobs.map((b) => b.key), ['dir/x'])
  })
  await check('delete', async () => {
    await store.delete('k')
    assert.equal(await store.get('k'), null)
  })
  await check('onlyIfNew', async () => {
    assert.equal((await store.set('once', '1', { onlyIfNew: true })).modified, true)
    assert.equal((await store.set('once', '2', { onlyIfNew: true })).modified, false)
  })
  await check('strong is v2-only', async () => {
    await assert.rejects(getStore({ name: `v1-${run}`, consistency: 'strong' }).get('k'), /consistency/i)
  })
  await check('deploy stores are v2-only', async () => {
    assert.throws(() => getDeployStore('d'), /region/i)
  })
  return { statusCode: 200, body: JSON.stringify({ ok: true, checks }) }
}
