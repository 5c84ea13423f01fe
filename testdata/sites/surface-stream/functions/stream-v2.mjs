// Five chunks 200 ms apart from a v2 ReadableStream (?n=, ?gap= change them).
export default async (req) => {
  const url = new URL(req.url)
  const n = Number(url.searchParams.get('n') ?? 5)
  const gap = Number(url.searchParams.get('gap') ?? 200)
  let i = 0
  const body = new ReadableStream({
    async pull(controller) {
      if (i === n) {
        controller.close()
        return
      }
      if (i > 0) await new Promise((r) => setTimeout(r, gap))
      controller.enqueue(new TextEncoder().encode(`chunk ${++i}\n`))
      if (i === n) controller.close()
    },
  })
  return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
