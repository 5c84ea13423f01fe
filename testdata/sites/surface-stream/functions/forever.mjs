// Streams a tick every 50 ms until the client goes away; then it sees
// req.signal abort and its stream cancelled, and says so.
export default async (req) => {
  let timer
  req.signal.addEventListener('abort', () => console.log('request signal aborted:', req.signal.reason?.name))
  const body = new ReadableStream({
    start(controller) {
      let i = 0
      timer = setInterval(() => controller.enqueue(new TextEncoder().encode(`tick ${++i}\n`)), 50)
    },
    cancel() {
      clearInterval(timer)
      console.log('stream cancelled')
    },
  })
  return new Response(body, { headers: { 'content-type': 'text/plain' } })
}
