// Slow on its first attempt only: the first attempt of the body's name
// writes $CHAOS_DIR/NAME.pid (its process) and waits firstMs (default
// 60000); any later attempt appends the name to $CHAOS_DIR/NAME.done and
// returns at once.
const fs = require('fs')
const path = require('path')

exports.handler = async (event) => {
  const { name = 'once', firstMs = 60000 } = event.body ? JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body) : {}
  const dir = process.env.CHAOS_DIR
  const marker = path.join(dir, name + '.started')
  if (!fs.existsSync(marker)) {
    fs.writeFileSync(marker, '')
    fs.writeFileSync(path.join(dir, name + '.pid'), String(process.pid))
    console.log(`first attempt of ${name}: waiting ${firstMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, firstMs))
  }
  fs.appendFileSync(path.join(dir, name + '.done'), name + '\n')
  console.log(`${name} done`)
}
