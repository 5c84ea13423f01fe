// A function folder: a local module and an npm package from node_modules.
const { shout } = require('./util.js')
const tiny = require('tiny-pkg')

exports.handler = async () => ({
  statusCode: 200,
  body: `${shout('deps')} ${tiny.answer()}`,
})
