// Greets the name in the JSON body, and logs that it did.
exports.handler = async (event) => {
  const { name = 'world' } = event.body ? JSON.parse(event.body) : {}
  console.log(`greeting ${name}`)
  return { statusCode: 200, body: `Hello, ${name}!\n` }
}
