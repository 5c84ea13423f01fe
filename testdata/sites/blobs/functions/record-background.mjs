// A background function keeps its result in a store, as real ones do:
// the caller got 202 long ago, and reads it from status.mjs.
import { getStore } from '@netlify/blobs'

export default async (req) => {
  const { job } = await req.json()
  console.log(`working on ${job}`)
  await new Promise((r) => setTimeout(r, 200))
  await getStore('jobs').setJSON(job, { job, done: true, at: new Date().toISOString() })
  console.log(`stored ${job}`)
}
