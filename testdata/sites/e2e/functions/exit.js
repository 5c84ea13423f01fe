// ?crash=1 kills the worker mid-invocation; otherwise it says its pid.
exports.handler = async (event) => {
  if (event.queryStringParameters.crash === '1') {
    process.exit(1)
  }
  return { statusCode: 200, body: String(process.pid) }
}
