// A module whose top-level await never settles: its worker never gets
// ready. It writes its pid first (the worker's folder is the site's), so
// the tests can check the worker is gone.
import { writeFileSync } from 'node:fs'

writeFileSync('hang-init.pid.json', JSON.stringify({ pid: process.pid }))
setInterval(() => {}, 1000) // keeps the event loop busy, as a connection that never opens does
await new Promise(() => {})

export default async () => new Response('never')
