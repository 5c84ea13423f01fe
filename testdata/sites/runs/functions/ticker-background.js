// Prints "tick 1" ... "tick N" (the body's n, default 10), 150 ms apart.
exports.handler = async (event) => {
  const { n = 10 } = event.body ? JSON.parse(event.body) : {}
  for (let i = 1; i <= n; i++) {
    console.log(`tick ${i}`)
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
}
