// Sleeps for the body's ms (default 1000), writing its pid to the body's
// pidfile first when there is one.
const fs = require('fs')

exports.handler = async (event) => {
  const { ms = 1000, pidfile } = event.body ? JSON.parse(event.body) : {}
  if (pidfile) fs.writeFileSync(pidfile, String(process.pid))
  console.log(`sleeping ${ms} ms`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  console.log('woke up')
}
