// Netlify's globals and every context field, with the real
// @netlify/functions getContext() and purgeCache()
// (testdata/script/globals_context.txtar).
import { getContext, purgeCache } from '@netlify/functions'

let outside
try {
  getContext()
} catch (err) {
  outside = err.message
}

export const config = { path: '/globals/:name' }

export default async (req, context) => {
  const checks = { outside }
  Netlify.env.set('BGFN_TEST_VAR', 'x')
  checks.envSet = Netlify.env.get('BGFN_TEST_VAR') === 'x' && process.env.BGFN_TEST_VAR === 'x'
  checks.envHas = Netlify.env.has('BGFN_TEST_VAR') && !Netlify.env.has('BGFN_NOPE')
  checks.envToObject = Netlify.env.toObject().BGFN_TEST_VAR === 'x' && Netlify.env.toObject().FROM_TOML === 'toml'
  Netlify.env.delete('BGFN_TEST_VAR')
  checks.envDelete = !Netlify.env.has('BGFN_TEST_VAR') && process.env.BGFN_TEST_VAR === undefined
  checks.netlifyContext = Netlify.context === context
  checks.getContext = getContext() === context
  await new Promise((resolve) => setTimeout(resolve, 5))
  checks.getContextAfterAwait = getContext() === context
  checks.local = process.env.NETLIFY_LOCAL
  await purgeCache({ tags: ['products', 'home'] })
  checks.purged = true
  const seen = context.cookies.get('seen')
  context.cookies.set('fresh', 'yes')
  context.cookies.set({ name: 'session', value: 'abc', httpOnly: true, path: '/', sameSite: 'Lax' })
  context.cookies.delete('old')
  const headers = {}
  for (const h of ['x-nf-site-id', 'x-nf-deploy-id', 'x-nf-deploy-context', 'x-nf-request-id', 'x-nf-client-connection-ip', 'x-nf-geo']) {
    headers[h] = req.headers.get(h)
  }
  return context.json({
    checks,
    site: context.site,
    deploy: context.deploy,
    account: context.account,
    server: context.server,
    geo: context.geo,
    ip: context.ip,
    requestId: context.requestId,
    params: context.params,
    url: context.url.href,
    seen,
    headers,
    geoHeader: JSON.parse(Buffer.from(headers['x-nf-geo'], 'base64').toString('utf8')),
  })
}
