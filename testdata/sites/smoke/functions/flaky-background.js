// Counts its attempts in .flaky/KEY (the body's key) and throws on the first
// `fails` of them (default 2), so by default it succeeds on Netlify's third
// attempt; fails = 3 or more makes it fail for good.
const fs = require('fs')

exports.handler = async (event) => {
  const { key = 'default', fails = 2 } = JSON.parse(event.body || '{}')
  fs.mkdirSync('.flaky', { recursive: true })
  const file = `.flaky/${key}`
  let n = 1
  try {
    n = Number(fs.readFileSync(file, 'utf8')) + 1
  } catch {}
  fs.writeFileSync(file, String(n))
  console.log(`attempt ${n}`)
  if (n <= fails) throw new Error(`attempt ${n} failed`)
  console.log('done')
}
