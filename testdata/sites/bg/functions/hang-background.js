// Writes its instance ({pid, thread}) to DIR/N.json (N counts the attempts:
// the .json files already in the body's dir, plus one), appends a dot to
// DIR/beat every 20 ms (so a test sees whether its code still runs), then
// never ends.
const fs = require('fs')
const path = require('path')
const { threadId } = require('worker_threads')

exports.handler = (event) => {
  const { dir } = JSON.parse(event.body)
  fs.mkdirSync(dir, { recursive: true })
  const n = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length + 1
  fs.writeFileSync(path.join(dir, `${n}.json`), JSON.stringify({ pid: process.pid, thread: threadId }))
  setInterval(() => fs.appendFileSync(path.join(dir, 'beat'), '.'), 20)
  console.log(`hanging in attempt ${n}`)
  return new Promise(() => {})
}
