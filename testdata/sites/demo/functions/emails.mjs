// Lists the emails send-email-background has sent, newest first, from the
// Netlify Blobs store it writes to.
import { getStore } from '@netlify/blobs'

export default async () => {
  const store = getStore('emails')
  const { blobs } = await store.list()
  const keys = blobs.map((b) => b.key).sort().reverse()
  const sent = await Promise.all(keys.map((key) => store.get(key, { type: 'json' })))
  return Response.json({ sent })
}
