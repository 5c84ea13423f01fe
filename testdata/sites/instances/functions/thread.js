// Names its instance: the worker's pid and thread.
const { threadId } = require('worker_threads')

exports.handler = async () => ({ statusCode: 200, body: `${process.pid}:${threadId}` })
