// Says it started, works for two seconds, then logs its version; scripts
// edit it while it runs.
exports.handler = async () => {
  console.log('started')
  await new Promise((resolve) => setTimeout(resolve, 2000))
  console.log('version old')
}
