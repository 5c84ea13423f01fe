// require() must get a dual package's CommonJS build and import its ES
// module build, as in Node.
const viaRequire = require('dual')

exports.handler = async () => {
  const viaImport = await import('dual')
  return { statusCode: 200, body: `require:${viaRequire.kind} import:${viaImport.kind}` }
}
