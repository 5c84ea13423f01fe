// Answers the worker's pid.
exports.handler = async () => ({ statusCode: 200, body: String(process.pid) })
