// node-fetch v2's shape: "main" is CommonJS (module.exports = fetch),
// "module" is ESM. require() must give the function itself.
const fetch = require('fetchlike')

exports.handler = async () => ({ statusCode: 200, body: `${typeof fetch} ${fetch.name} ${fetch()}` })
