// Answers at once and defers work with context.waitUntil: after ?ms= (500)
// it writes ?file= and logs it; a second promise is added while the
// runtime waits (?nested=1), and one rejects (?reject=1).
import { writeFileSync } from 'node:fs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export default async (req, context) => {
  const q = new URL(req.url).searchParams
  const ms = Number(q.get('ms') ?? 500)
  const file = q.get('file')
  console.log('answering now')
  context.waitUntil(
    sleep(ms).then(() => {
      if (file) writeFileSync(file, 'deferred write done\n')
      console.log('deferred write done')
      if (q.get('nested') === '1') {
        context.waitUntil(sleep(100).then(() => console.log('nested work done')))
      }
    }),
  )
  if (q.get('reject') === '1') context.waitUntil(sleep(50).then(() => Promise.reject(new Error('deferred boom'))))
  return new Response('answered\n', { headers: { 'content-type': 'text/plain' } })
}
