// Logs a line, then throws.
exports.handler = async () => {
  console.log('about to throw')
  throw new Error('kaboom')
}
