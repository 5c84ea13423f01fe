// Requires a module from outside the functions folder.
const { msg } = require('../lib/msg.js')
exports.handler = async () => ({ statusCode: 200, body: msg })
