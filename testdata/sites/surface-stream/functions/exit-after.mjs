// process.exit in every place it can be called from, by ?mode=:
//   timer   answer, then exit(0) from setImmediate (the instance is idle by then)
//   wait    answer, then exit(0) at the end of waitUntil work
//   ack     stream "ack", then end the stream and exit(0) at once, as
//           @netlify/async-workloads does after each step in development
//   during  exit(0) before answering: a failure
//   fail    answer, then exit(3) in waitUntil work: a failure after the answer
//   busy    answer, then keep the instance busy for 300 ms and exit(0): an
//           invocation sent to it meanwhile never started, and runs elsewhere
//   late    answer, then exit(0) from a timer 150 ms later, which lands in
//           the next invocation if that one runs by then (?mode=slow)
//   slow    answer after 400 ms
// Without a mode it answers its thread id, to tell instances apart.
import { threadId } from 'node:worker_threads'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export default async (req, context) => {
  const mode = new URL(req.url).searchParams.get('mode')
  const me = `pid ${process.pid} thread ${threadId}\n`
  switch (mode) {
    case 'timer':
      setImmediate(() => process.exit(0))
      break
    case 'wait':
      context.waitUntil(sleep(30).then(() => process.exit(0)))
      break
    case 'fail':
      context.waitUntil(sleep(30).then(() => process.exit(3)))
      break
    case 'busy':
      setImmediate(() => {
        const end = Date.now() + 300
        while (Date.now() < end);
        process.exit(0)
      })
      break
    case 'late':
      setTimeout(() => process.exit(0), 150)
      break
    case 'slow':
      await sleep(400)
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
