// Answers its worker's pid: a rebuild would start a new worker.
exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ pid: process.pid }),
})
