// One of many concurrent writers to the same key: ?w=N writes 256 KB of
// the letter for N; ?read=1 checks the key holds one writer's value whole.
import { getStore } from '@netlify/blobs'

export default async (req) => {
  const q = new URL(req.url).searchParams
  const store = getStore('contended')
  if (q.has('read')) {
    const v = await store.get('key')
    const whole = v !== null && v.length === 256 * 1024 && v === v[0].repeat(v.length)
    return Response.json({ whole, letter: v?.[0], length: v?.length })
  }
  const letter = String.fromCharCode(65 + (Number(q.get('w')) % 26))
  await store.set('key', letter.repeat(256 * 1024))
  return new Response('wrote ' + letter)
}
