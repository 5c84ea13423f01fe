// v2: the same JWT arrives as the x-nf-identity-info header (base64 JSON
// {url, token, user}), as globalThis.netlifyIdentityContext, and through
// the real @netlify/identity's getUser() (testdata/script/identity.txtar).
import { getUser } from '@netlify/identity'

export default async (req) => {
  const raw = req.headers.get('x-nf-identity-info')
  let info = null
  try {
    info = raw ? JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) : null
  } catch {}
  const user = await getUser()
  return Response.json({
    header: info && { email: info.user?.email ?? null, url: info.url, tokenParts: String(info.token).split('.').length },
    global: globalThis.netlifyIdentityContext?.user?.email ?? null,
    getUser: user?.email ?? null,
    getUserName: user?.name ?? null,
  })
}
