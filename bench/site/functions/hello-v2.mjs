// Netlify Functions 2.0: a web Response instead of a Lambda result.
export default async () => Response.json({ hello: 'world' })
