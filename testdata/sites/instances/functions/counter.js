// A module-level counter: an instance that served n calls answers n.
let calls = 0

exports.handler = async (event) => {
  calls++
  const ms = Number(event.queryStringParameters.ms || 0)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { statusCode: 200, body: String(calls) }
}
