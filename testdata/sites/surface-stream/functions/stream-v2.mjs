// Five chunks 200 ms apart from a v2 ReadableStream (?n=, ?gap= change
// them; ?fail=K makes the stream fail after K chunks).
export default async (req) => {
  const url = new URL(req.url)
  const n = Number(url.searchParams.get('n') ?? 5)
  const gap = Number(url.searchParams.get('gap') ?? 200)
  const fail = Number(url.searchParams.get('fail') ?? -1)
  let i = 0
  const body = new ReadableStream({
    async pull(controller) {
      if (i === n) {
        controller.close()
        return
      }
      if (i > 0) await new Promise((r) => setTimeout(r, gap))
      if (i === fail) throw new RangeError(`the source broke after ${i} chunks`)
      controller.enqueue(new TextEncoder().encode(`chunk ${++i}\n`))
      if (i === n) controller.close()
    },
  })
  return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
