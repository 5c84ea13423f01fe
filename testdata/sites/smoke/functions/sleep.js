// Answers after ?ms= milliseconds (default 300), as an I/O-bound handler
// would.
exports.handler = async (event) => {
  const ms = Number(event.queryStringParameters.ms || 300)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { statusCode: 200, body: `slept ${ms} ms\n` }
}
