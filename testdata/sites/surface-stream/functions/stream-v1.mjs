// A v1 handler wrapped in stream() from @netlify/functions: five chunks
// 200 ms apart, the body a Node Readable (?body=node), a web ReadableStream
// (?body=web) or a string (?body=string).
import { Readable } from 'node:stream'
import { stream } from '@netlify/functions'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function* chunks(n, gap) {
  for (let i = 1; i <= n; i++) {
    if (i > 1) await sleep(gap)
    yield `chunk ${i}\n`
  }
}

// webStream is ReadableStream.from(it), which Node 18 lacks.
function webStream(it) {
  return new ReadableStream({
    async pull(c) {
      const { value, done } = await it.next()
      if (done) c.close()
      else c.enqueue(value)
    },
  })
}

export const handler = stream(async (event) => {
  const q = event.queryStringParameters ?? {}
  const n = Number(q.n ?? 5)
  const gap = Number(q.gap ?? 200)
  let body
  switch (q.body ?? 'node') {
    case 'string':
      body = 'all at once\n'
      break
    case 'web':
      body = webStream(chunks(n, gap)).pipeThrough(new TextEncoderStream())
      break
    default:
      body = Readable.from(chunks(n, gap))
  }
  return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-kind': 'v1-stream' }, body }
})
