// Logs how large a body it got.
exports.handler = async (event) => {
  console.log(`got ${(event.body || '').length} body characters`)
}
