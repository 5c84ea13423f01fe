// Takes 200 ms, as an I/O-bound handler would, and names its instance.
const { threadId } = require('worker_threads')

exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 200))
  return { statusCode: 200, body: `${process.pid}:${threadId}` }
}
