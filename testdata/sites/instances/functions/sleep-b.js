// Takes 300 ms.
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 300))
  return { statusCode: 200, body: 'slept' }
}
