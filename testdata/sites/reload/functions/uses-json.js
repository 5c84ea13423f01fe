// Imports a JSON file, which esbuild bundles.
const data = require('./data.json')
exports.handler = async () => ({ statusCode: 200, body: data.label })
