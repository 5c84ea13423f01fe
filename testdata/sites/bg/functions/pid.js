// Answers the worker's pid, so a script can check the process is gone.
exports.handler = async () => ({ statusCode: 200, body: String(process.pid) })
