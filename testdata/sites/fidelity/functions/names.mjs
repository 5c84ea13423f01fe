// Two bundled modules both declare FetchError: names must stay as written.
import { FetchError as A } from '../lib/errors-a.mjs'
import { FetchError as B } from '../lib/errors-b.mjs'

export const handler = async () => {
  const a = new A('a')
  const b = new B('b')
  return { statusCode: 200, body: [a.name, b.name, A.name, B.name, a instanceof A, b instanceof B].join(' ') }
}
