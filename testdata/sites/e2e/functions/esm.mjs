// An ES module v1 handler using top-level await and a node: import.
import { basename } from 'node:path'

const loaded = await Promise.resolve('esm loaded')

export const handler = async () => ({
  statusCode: 200,
  body: `${loaded} ${basename('/a/b/esm.mjs')}`,
})
