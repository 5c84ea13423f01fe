// TypeScript with types esbuild must strip.
type Greeting = { text: string; n: number }

const greet = (who: string): Greeting => ({ text: `typed hello ${who}`, n: 42 as number })

export const handler = async (event: { queryStringParameters: Record<string, string> }) => {
  const g: Greeting = greet(event.queryStringParameters.who ?? 'ts')
  return { statusCode: 200, body: `${g.text} ${g.n}` }
}
