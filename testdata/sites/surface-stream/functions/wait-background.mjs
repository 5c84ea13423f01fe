// A background function whose work is deferred with context.waitUntil:
// its attempt ends when that work has settled.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export default async (req, context) => {
  context.waitUntil(sleep(300).then(() => console.log('background deferred work done')))
}
