// process.exit in every place it can be called from, by ?mode=:
//   timer   answer, then exit(0) from a timer (the instance is idle by then)
//   wait    answer, then exit(0) at the end of waitUntil work
//   ack     stream "ack", then end the stream and exit(0) at once, as
//           @netlify/async-workloads does after each step in development
//   during  exit(0) before answering: a failure
//   fail    answer, then exit(3) in waitUntil work: a failure after the answer
// Without a mode it answers its thread id, to tell instances apart.
import { threadId } from 'node:worker_threads'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export default async (req, context) => {
  const mode = new URL(req.url).searchParams.get('mode')
  const me = `pid ${process.pid} thread ${threadId}\n`
  switch (mode) {
    case 'timer':
      setTimeout(() => process.exit(0), 30)
      break
    case 'wait':
      context.waitUntil(sleep(30).then(() => process.exit(0)))
      break
    case 'fail':
      context.waitUntil(sleep(30).then(() => process.exit(3)))
      break
    case 'during':
      process.exit(0)
      break
    case 'ack': {
      const body = new ReadableStream({
        start(controller) {
          sleep(50).then(() => {
            controller.close()
            process.exit(0)
          })
          controller.enqueue('ack')
        },
      })
      return new Response(body, { headers: { 'x-awl-ack': 'ack' } })
    }
  }
  return new Response(me)
}
