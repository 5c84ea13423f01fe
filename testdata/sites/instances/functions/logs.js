// Prints five lines naming ?id=, a few ms apart, then answers it.
exports.handler = async (event) => {
  const id = event.queryStringParameters.id
  for (let i = 1; i <= 5; i++) {
    console.log(`line ${i} of ${id}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { statusCode: 200, body: id }
}
