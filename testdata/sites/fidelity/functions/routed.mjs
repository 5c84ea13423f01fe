export default async (req, context) =>
  Response.json({ url: new URL(req.url).pathname + new URL(req.url).search, method: req.method, params: context.params })

export const config = { path: ['/api/routed/:id', '/api/routed'] }
