// A background function that works for a second.
exports.handler = async () => {
  console.log('bg start')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  console.log('bg end')
}
