// Answers after 300 ms: the instances figures send it 50 requests at once.
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 300))
  return { statusCode: 200, body: 'slept' }
}
