// Answers the GREETING variable from .env.
exports.handler = async () => ({ statusCode: 200, body: 'greeting=' + process.env.GREETING })
