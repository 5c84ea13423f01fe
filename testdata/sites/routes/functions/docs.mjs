// Answers under /docs/, except under /docs/private/.
export default async (req) => new Response('docs ' + new URL(req.url).pathname)

export const config = { path: '/docs/*', excludedPath: '/docs/private/*' }
