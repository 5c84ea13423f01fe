// getStore() at module top level: fails on Netlify, where the Blobs
// context is set per invocation (netlify/blobs#175), so it fails here too.
import { getStore } from '@netlify/blobs'

const store = getStore('eager')

export default async () => new Response(String(await store.get('x')))
