// v1 (Lambda-compatible) handler: the baseline every other figure is read against.
exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: 'world' }),
})
