// Writes its instance ({pid, thread}) to ?pidfile= (or $HANG_PIDFILE),
// then never answers; with ?beat=FILE it appends a dot there every 20 ms,
// so a test can see whether its code still runs.
const fs = require('fs')
const { threadId } = require('worker_threads')

exports.handler = (event) => {
  const q = event.queryStringParameters
  const file = q.pidfile || process.env.HANG_PIDFILE
  if (file) fs.writeFileSync(file, JSON.stringify({ pid: process.pid, thread: threadId }))
  if (q.beat) setInterval(() => fs.appendFileSync(q.beat, '.'), 20)
  return new Promise(() => {})
}
