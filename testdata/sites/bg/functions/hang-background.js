// Writes its pid to DIR/N.pid (N counts the attempts: the files already in
// the body's dir, plus one), then never ends.
const fs = require('fs')
const path = require('path')

exports.handler = (event) => {
  const { dir } = JSON.parse(event.body)
  fs.mkdirSync(dir, { recursive: true })
  const n = fs.readdirSync(dir).length + 1
  fs.writeFileSync(path.join(dir, `${n}.pid`), String(process.pid))
  console.log(`hanging in attempt ${n}`)
  return new Promise(() => {})
}
