// Reads what record-background stored: ?job=ID for one, else all of them.
import { getStore } from '@netlify/blobs'

export default async (req) => {
  const jobs = getStore('jobs')
  const job = new URL(req.url).searchParams.get('job')
  if (job) {
    const value = await jobs.get(job, { type: 'json' })
    return value === null ? new Response('no such job\n', { status: 404 }) : Response.json(value)
  }
  const { blobs } = await jobs.list()
  return Response.json(blobs.map((b) => b.key).sort())
}
