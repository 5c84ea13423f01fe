// bgfn sends an event-triggered function Netlify's sample event, with the
// request's JSON merged over it: this answers the keys it got.
exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(Object.keys(JSON.parse(event.body)).sort()) });
