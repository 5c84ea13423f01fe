// Answers the item ?id= that create-item stored, or 404.
const fs = require('fs')

exports.handler = async (event) => {
  const id = event.queryStringParameters.id || ''
  if (!/^[0-9a-f]+$/.test(id)) return { statusCode: 400, body: 'bad id' }
  try {
    const item = fs.readFileSync(`.items/${id}.json`, 'utf8')
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: item }
  } catch {
    return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: `no item ${id}` }) }
  }
}
