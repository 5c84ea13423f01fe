// A scheduled function (netlify.toml gives its schedule).
exports.handler = async (event) => {
  console.log(`nightly run, next ${JSON.parse(event.body).next_run}`)
  return { statusCode: 200 }
}
