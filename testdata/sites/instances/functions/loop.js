// ?spin=1 never returns and never yields; otherwise it answers at once.
exports.handler = async (event) => {
  if (event.queryStringParameters.spin === '1') {
    for (;;) {}
  }
  return { statusCode: 200, body: 'not spinning' }
}
