// Returns the 256 bytes 0x00..0xff, base64-encoded.
exports.handler = async () => {
  const bytes = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) bytes[i] = i
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  }
}
