// A short background job: waits the body's ms (default 20), then appends
// its invocation id to $CHAOS_DIR/done.log, one line per attempt that ran
// to completion, so a test can tell which ran twice.
const fs = require('fs')
const path = require('path')

exports.handler = async (event) => {
  const { ms = 20 } = event.body ? JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body) : {}
  await new Promise((resolve) => setTimeout(resolve, ms))
  if (process.env.CHAOS_DIR) {
    fs.appendFileSync(path.join(process.env.CHAOS_DIR, 'done.log'), event.headers['x-nf-request-id'] + '\n')
  }
}
