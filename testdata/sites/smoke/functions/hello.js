// Greets ?name= in JSON, with a header, and logs that it did.
exports.handler = async (event) => {
  const name = event.queryStringParameters.name || 'world'
  console.log(`greeting ${name}`)
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-greeting': 'hello' },
    body: JSON.stringify({ greeting: `Hello, ${name}!`, name, tags: ['new', 'friendly'], count: 2 }),
  }
}
