// Server-Sent Events: five events 200 ms apart, each with the time the
// function wrote it, then the stream ends.
export default async () => {
  const enc = new TextEncoder()
  let n = 0
  const body = new ReadableStream({
    async pull(controller) {
      if (n > 0) await new Promise((r) => setTimeout(r, 200))
      n++
      controller.enqueue(enc.encode(`id: ${n}\nevent: tick\ndata: ${JSON.stringify({ n, sentAt: Date.now() })}\n\n`))
      if (n === 5) controller.close()
    },
  })
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  })
}
