// A background function only because netlify.toml says so.
exports.handler = async () => {
  console.log('configured in netlify.toml')
}
