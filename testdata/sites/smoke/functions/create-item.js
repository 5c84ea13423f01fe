// Stores the JSON body's name as a new item in .items/ (the workers run in
// the site folder) and answers 201 with its id and a Location header.
const fs = require('fs')
const crypto = require('crypto')

exports.handler = async (event) => {
  const { name } = JSON.parse(event.body || '{}')
  if (!name) return { statusCode: 400, body: 'send {"name": "..."}' }
  const id = crypto.randomBytes(4).toString('hex')
  fs.mkdirSync('.items', { recursive: true })
  fs.writeFileSync(`.items/${id}.json`, JSON.stringify({ id, name }))
  console.log(`created item ${id}`)
  return {
    statusCode: 201,
    headers: { 'content-type': 'application/json', location: `/.netlify/functions/get-item?id=${id}` },
    body: JSON.stringify({ id, name }),
  }
}
