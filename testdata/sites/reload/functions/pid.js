// Answers its instance (pid and thread): a rebuild would start a new one.
const { threadId } = require('worker_threads')

exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ pid: process.pid, thread: threadId }),
})
