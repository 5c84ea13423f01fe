// A background function that waits 2 s, as one that sends an email or
// calls an API does: the instances figures POST it in bursts.
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 2000))
}
