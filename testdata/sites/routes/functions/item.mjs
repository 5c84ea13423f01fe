// Answers on a custom path with a named parameter.
export default async (req, context) =>
  Response.json({ id: context.params.id, url: new URL(req.url).pathname })

export const config = { path: '/api/items/:id' }
