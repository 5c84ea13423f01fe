// A page that listens to the sse function with EventSource and keeps each
// event with the time it arrived (window.events), for the browser test.
const page = `<!doctype html><html><head><meta charset="utf-8"><title>SSE</title></head>
<body><ol id="events"></ol><script>
window.events = []
const es = new EventSource('/.netlify/functions/sse')
es.addEventListener('tick', (e) => {
  const d = JSON.parse(e.data)
  window.events.push({ n: d.n, sentAt: d.sentAt, at: performance.now(), wall: Date.now() })
  const li = document.createElement('li')
  li.textContent = 'event ' + d.n + ' at ' + Math.round(performance.now()) + ' ms'
  document.getElementById('events').append(li)
  if (d.n === 5) es.close() // or EventSource reconnects when the stream ends
})
document.body.dataset.ready = '1'
</script></body></html>`

export default async () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } })
