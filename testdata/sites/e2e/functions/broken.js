// This file does not parse: esbuild must report where.
exports.handler = async () => {
  return { statusCode: 200 body: 'never' }
}
