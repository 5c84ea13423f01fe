// A common mistake when porting: a v2 handler returning a v1 result.
export default async () => ({ statusCode: 200, body: 'looks fine' })
