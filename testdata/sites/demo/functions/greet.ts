// The same in TypeScript: bgfn bundles it with esbuild, no tsc needed.
interface Event {
  queryStringParameters: Record<string, string | undefined>
}

interface Response {
  statusCode: number
  headers?: Record<string, string>
  body: string
}

export const handler = async (event: Event): Promise<Response> => {
  const name: string = event.queryStringParameters.name ?? 'TypeScript'
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: `Greetings, ${name}!\n`,
  }
}
