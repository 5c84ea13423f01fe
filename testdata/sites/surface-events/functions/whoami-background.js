// A background function gets no clientContext and no identity header, as
// in production (testdata/script/identity.txtar).
exports.handler = async (event, context) => {
  console.log('clientContext=' + JSON.stringify(context.clientContext))
  console.log('identity-info=' + (event.headers['x-nf-identity-info'] ?? 'none'))
}
