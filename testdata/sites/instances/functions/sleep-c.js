// Takes 1.5 s: long enough that all six requests of instances_cap.txtar arrive
// before the first ends, even when starting curl is slow.
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 1500))
  return { statusCode: 200, body: 'slept' }
}
