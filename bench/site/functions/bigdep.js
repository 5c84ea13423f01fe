// Requires node_modules/bigdep, about 5 MB of JavaScript that the bench
// generates into its copy of the site: it shows what a large dependency costs
// at build time, at worker start and per request.
const bigdep = require('bigdep')

exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: bigdep.word }),
})
