// CommonJS requiring Node built-ins. Bundled to ESM naively this fails with
// 'Dynamic require of "fs" is not supported'.
const fs = require('fs')
const path = require('path')

exports.handler = async () => ({
  statusCode: 200,
  body: `joined=${path.join('a', 'b')} cwd-exists=${fs.existsSync(process.cwd())}`,
})
