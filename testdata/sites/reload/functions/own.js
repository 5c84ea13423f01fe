// Answers a fixed text; scripts edit this file.
exports.handler = async () => ({ statusCode: 200, body: 'own v1' })
