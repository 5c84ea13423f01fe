// A legacy event function: Netlify calls it by its name with the form
// submission (testdata/script/events_trigger.txtar).
exports.handler = async (event) => {
  const body = JSON.parse(event.body)
  console.log(`legacy submission email=${body.payload.data.email} form=${body.payload.form_name} header=${event.headers['x-netlify-event']}`)
  return { statusCode: 200, body: `thanks ${body.payload.data.name}` }
}
