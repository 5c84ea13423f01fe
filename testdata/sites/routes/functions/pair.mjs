// Answers on two paths.
export default async (req) => new Response('pair ' + new URL(req.url).pathname)

export const config = { path: ['/one', '/two'] }
