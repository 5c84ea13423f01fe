// A background function that fails with a message of two lines.
exports.handler = async () => {
  console.log('about to fail')
  throw new Error('first line\nsecond line')
}
