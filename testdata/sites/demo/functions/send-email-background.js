// A background function (the -background suffix): the caller gets 202 at
// once and the work goes on, as in Netlify's background functions tutorial.
// Nothing is really sent; a timer stands in for the mail provider.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

exports.handler = async (event) => {
  const raw = event.isBase64Encoded ? Buffer.from(event.body || '', 'base64').toString() : event.body
  const { to } = JSON.parse(raw || '{}')
  if (!to) {
    console.log('No recipient: send {"to":"someone@example.com"}')
    return
  }
  console.log(`Sending email to ${to}`)
  await sleep(2000)
  console.log('Email sent')
}
