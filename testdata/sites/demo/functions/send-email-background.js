// A background function (the -background suffix): the caller gets 202 at
// once and the work goes on, as in Netlify's background functions tutorial.
// Nothing is really sent; a timer stands in for the mail provider. What it
// "sent" is kept in Netlify Blobs, where the emails function reads it: a
// background function returns nothing to its caller.
const { connectLambda, getStore } = require('@netlify/blobs')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

exports.handler = async (event) => {
  connectLambda(event)
  const raw = event.isBase64Encoded ? Buffer.from(event.body || '', 'base64').toString() : event.body
  const { to } = JSON.parse(raw || '{}')
  if (!to) {
    console.log('No recipient: send {"to":"someone@example.com"}')
    return
  }
  console.log(`Sending email to ${to}`)
  await sleep(2000)
  const sentAt = new Date().toISOString()
  await getStore('emails').setJSON(`${sentAt} ${to}`, { to, sentAt })
  console.log('Email sent')
}
