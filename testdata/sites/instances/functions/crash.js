// ?crash=1 throws outside the handler's promise chain, which ends its
// instance; otherwise it answers after ?ms=.
exports.handler = async (event) => {
  const q = event.queryStringParameters
  if (q.crash === '1') {
    setTimeout(() => {
      throw new RangeError('crashed on purpose')
    }, 10)
    return new Promise(() => {})
  }
  await new Promise((resolve) => setTimeout(resolve, Number(q.ms || 0)))
  return { statusCode: 200, body: 'fine' }
}
