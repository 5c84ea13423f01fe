// Returns the event it got and its instance: the worker's pid and thread.
const { threadId } = require('worker_threads')

exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event, pid: process.pid, thread: threadId }),
})
