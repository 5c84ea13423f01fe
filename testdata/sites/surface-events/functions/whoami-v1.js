// v1: the decoded claims of an Authorization Bearer JWT arrive as
// context.clientContext.user (testdata/script/identity.txtar).
exports.handler = async (event, context) => {
  const cc = context.clientContext || {}
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: cc.user?.email ?? null,
      sub: cc.user?.sub ?? null,
      identityURL: cc.identity?.url ?? null,
      custom: typeof cc.custom?.netlify === 'string',
      keys: Object.keys(cc).sort(),
    }),
  }
}
