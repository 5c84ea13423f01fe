// A Netlify Functions 2.0 handler: a web Request in, a web Response out.
export default async (req, context) => {
  const url = new URL(req.url)
  return Response.json({
    message: `Hello from ${url.pathname}`,
    method: req.method,
    requestId: context.requestId,
  })
}
