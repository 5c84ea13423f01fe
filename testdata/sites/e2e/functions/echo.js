// Returns the event it got and the worker's pid.
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event, pid: process.pid }),
})
