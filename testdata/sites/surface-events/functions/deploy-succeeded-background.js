// A legacy background event function.
exports.handler = async (event) => {
  const body = JSON.parse(event.body)
  console.log(`legacy deploy-succeeded background state=${body.payload.state} site=${body.site.id}`)
}
