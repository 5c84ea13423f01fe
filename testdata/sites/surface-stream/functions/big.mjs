// Streams ?mb= MiB (default 30) of 64 KiB chunks as fast as bgfn takes them.
export default async (req) => {
  const mb = Number(new URL(req.url).searchParams.get('mb') ?? 30)
  const chunk = new Uint8Array(64 << 10).fill(120)
  let left = (mb << 20) / chunk.length
  const body = new ReadableStream({
    async pull(controller) {
      if (left-- <= 0) {
        controller.close()
        return
      }
      // A macrotask per chunk, as a real producer (a file, a socket) has.
      await new Promise((r) => setImmediate(r))
      controller.enqueue(chunk)
    },
  })
  return new Response(body, { headers: { 'content-type': 'application/octet-stream' } })
}
