export default async (req, context) => Response.json({ params: context.params })

export const config = { path: '/api/things/:id/:part' }
