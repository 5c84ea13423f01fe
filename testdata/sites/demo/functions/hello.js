// A Lambda-compatible (v1) function: GET /.netlify/functions/hello?name=Ada
exports.handler = async (event) => {
  const name = event.queryStringParameters.name || 'world'
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ greeting: `Hello, ${name}!`, name }),
  }
}
