// middy 0.x style: a package required on a path that may never run. It is
// not installed; the build must still work.
exports.handler = async (event) => {
  if (event.queryStringParameters.load === '1') {
    const AWS = require('aws-sdk')
    return { statusCode: 200, body: typeof AWS }
  }
  return { statusCode: 200, body: 'no aws-sdk needed' }
}
