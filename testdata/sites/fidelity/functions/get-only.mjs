export default async (req) => new Response(req.method)

export const config = { path: '/api/get-only', method: 'GET' }
