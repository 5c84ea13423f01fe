// A background function: bgfn answers 202 at once; the work (a 10 ms timer
// standing in for real I/O) runs after.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

exports.handler = async () => {
  await sleep(10)
}
