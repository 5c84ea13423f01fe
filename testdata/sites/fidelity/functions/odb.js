// An on-demand builder: the wrapper (a fixture copy of what builder() from
// @netlify/functions adds) marks the result. The handler echoes the query
// it sees, which must be empty at /.netlify/builders/.
const { builder } = require('odb')

exports.handler = builder(async (event) => ({
  statusCode: 200,
  body: `built with query "${event.rawQuery}" ${JSON.stringify(event.queryStringParameters)}`,
}))
