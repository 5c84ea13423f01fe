// Answers how large a body it got.
exports.handler = async (event) => ({ statusCode: 200, body: `got ${(event.body || '').length} body characters\n` })
