// A Functions 2.0 handler: web Request in, Response out.
export default async (req, context) => {
  const url = new URL(req.url)
  return new Response(
    `v2 ${req.method} ${url.pathname} x-test=${req.headers.get('x-test')} id=${context.requestId}`,
    { status: 201, headers: { 'content-type': 'text/plain', 'x-v2': 'yes' } },
  )
}
