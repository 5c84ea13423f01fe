// Takes 200 ms, as an I/O-bound handler would.
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 200))
  return { statusCode: 200, body: String(process.pid) }
}
