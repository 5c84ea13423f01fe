// The same as hello.js in TypeScript, to show TS costs nothing once bundled.
interface Response {
  statusCode: number
  headers: Record<string, string>
  body: string
}

export const handler = async (): Promise<Response> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: 'world' }),
})
