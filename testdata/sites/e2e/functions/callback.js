// Old-style handler: answers through the callback, later.
exports.handler = (event, context, callback) => {
  setTimeout(() => {
    callback(null, { statusCode: 200, body: 'called back' })
  }, 20)
}
