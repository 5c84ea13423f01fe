// A module whose top-level await never settles: its instance never gets
// ready. It writes its pid first (the worker's folder is the site's), so
// the tests can check the process that ran it is gone, and appends a dot
// to hang-init.beat every 20 ms, so they can check its code stopped.
import { appendFileSync, writeFileSync } from 'node:fs'

writeFileSync('hang-init.pid.json', JSON.stringify({ pid: process.pid }))
setInterval(() => appendFileSync('hang-init.beat', '.'), 20)
await new Promise(() => {})

export default async () => new Response('never')
