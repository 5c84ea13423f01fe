// Always throws.
exports.handler = async () => {
  console.log('trying')
  throw new Error('always fails')
}
