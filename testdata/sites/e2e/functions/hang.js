// Writes its pid to ?pidfile= (or $HANG_PIDFILE), then never answers.
const fs = require('fs')

exports.handler = (event) => {
  const file = event.queryStringParameters.pidfile || process.env.HANG_PIDFILE
  if (file) fs.writeFileSync(file, String(process.pid))
  return new Promise(() => {})
}
