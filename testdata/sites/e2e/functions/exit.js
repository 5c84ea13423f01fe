// ?crash=1 ends its instance mid-invocation; otherwise it names its
// instance: the worker's pid and thread.
const { threadId } = require('worker_threads')

exports.handler = async (event) => {
  if (event.queryStringParameters.crash === '1') {
    process.exit(1)
  }
  return { statusCode: 200, body: JSON.stringify({ pid: process.pid, thread: threadId }) }
}
