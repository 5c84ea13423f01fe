// Answers POST only.
export default async (req) => new Response('submitted ' + (await req.text()))

export const config = { path: '/api/submit', method: 'POST' }
