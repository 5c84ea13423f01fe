// Tests for bootstrap.mjs: each test starts the bootstrap as bgfn does (extra
// pipes on fd 3 and fd 4) against a small fixture module written the way
// esbuild outputs it, and checks the messages of PROTOCOL.md.
//
// Run with: node --test internal/runtime/nodeboot/

import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'

const BOOTSTRAP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bootstrap.mjs')
const MARK = '\u0000bgfn:end:'
const TIMEOUT = 30_000

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bgfn-nodeboot-'))
const workers = new Set()
after(() => {
  // A failed test leaves its worker running; it would keep the run alive.
  for (const w of workers) if (!w.exited) w.child.kill('SIGKILL')
  fs.rmSync(dir, { recursive: true, force: true })
})

let fixtures = 0
function fixture(source) {
  const file = path.join(dir, `fn${++fixtures}.mjs`)
  fs.writeFileSync(file, source)
  return file
}

// Worker is one bootstrap process with helpers to talk the protocol.
class Worker {
  constructor(entry, env = {}) {
    this.child = spawn(process.execPath, ['--enable-source-maps', BOOTSTRAP], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        BGFN_ENTRY: entry,
        BGFN_FUNCTION_NAME: 'hello-fn',
        BGFN_PROTOCOL: '1',
        AWS_REGION: 'dev',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        ...env,
      },
    })
    this.stdout = ''
    this.stderr = ''
    this.messages = []
    this.waiters = []
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })))
    this.child.stdout.setEncoding('utf8').on('data', (d) => {
      this.stdout += d
      this.wake()
    })
    this.child.stderr.setEncoding('utf8').on('data', (d) => {
      this.stderr += d
      this.wake()
    })
    let buf = ''
    this.child.stdio[4].setEncoding('utf8').on('data', (d) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) !== -1) {
        this.messages.push(JSON.parse(buf.slice(0, nl)))
        buf = buf.slice(nl + 1)
      }
      this.wake()
    })
    this.child.on('exit', () => this.wake())
    this.exited = false
    workers.add(this)
    this.child.on('exit', () => {
      this.exited = true
      workers.delete(this)
    })
  }

  wake() {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  // until polls cond after every event from the child, failing after TIMEOUT.
  until(what, cond) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for ${what}\nmessages: ${JSON.stringify(this.messages)}\nstdout: ${JSON.stringify(this.stdout)}\nstderr: ${JSON.stringify(this.stderr)}`))
      }, TIMEOUT)
      const check = () => {
        let v
        try {
          v = cond()
        } catch (err) {
          clearTimeout(timer)
          reject(err)
          return
        }
        if (v !== undefined) {
          clearTimeout(timer)
          resolve(v)
        } else if (this.exited && this.messages.length === 0) {
          // Let a final drain of the pipes run before giving up.
          setTimeout(() => {
            const last = cond()
            clearTimeout(timer)
            if (last !== undefined) resolve(last)
            else reject(new Error(`worker exited while waiting for ${what}\nstdout: ${JSON.stringify(this.stdout)}\nstderr: ${JSON.stringify(this.stderr)}`))
          }, 50)
        } else {
          this.waiters.push(check)
        }
      }
      check()
    })
  }

  next(what = 'a message') {
    return this.until(what, () => (this.messages.length > 0 ? this.messages.shift() : undefined))
  }

  async ready(api) {
    const m = await this.next('ready')
    assert.deepEqual(m, { type: 'ready', api })
    return this
  }

  send(msg) {
    this.child.stdio[3].write(JSON.stringify(msg) + '\n')
  }

  // invoke sends an invocation and returns the first message about it.
  async invoke(id, event = {}, extra = {}) {
    this.send({ type: 'invoke', id, event, clientContext: null, deadlineMs: Date.now() + 30_000, background: false, ...extra })
    const m = await this.next(`answer to ${id}`)
    assert.equal(m.id, id)
    return m
  }

  // markers waits until both streams carried the end marker of id.
  markers(id) {
    const m = MARK + id + '\n'
    return this.until(`markers of ${id}`, () => (this.stdout.includes(m) && this.stderr.includes(m) ? true : undefined))
  }

  async close() {
    this.child.stdio[3].end()
    return this.exit
  }
}

async function start(source, api, env) {
  return new Worker(fixture(source), env).ready(api)
}

function event(overrides = {}) {
  return {
    path: '/.netlify/functions/hello',
    httpMethod: 'GET',
    headers: { host: 'localhost:8888' },
    multiValueHeaders: { host: ['localhost:8888'] },
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    isBase64Encoded: false,
    rawUrl: 'http://localhost:8888/.netlify/functions/hello',
    rawQuery: '',
    ...overrides,
  }
}

// requestView is what a handler can read of a bodiless Request, for
// comparing a lazy Request with a constructed one: its getters, its
// headers (linked to what clone() and new Request(req) copy), its signal
// and its body readers. It runs in fixtures (as source) and in the tests.
async function requestView(req) {
  const outcome = (promise) =>
    promise.then(
      (v) => (v instanceof ArrayBuffer ? ['ab', v.byteLength] : v instanceof Blob ? ['blob', v.size] : ['v', v]),
      (err) => ['err', err.name],
    )
  const simple = (r) => [
    r instanceof Request,
    Object.getPrototypeOf(r) === Request.prototype,
    Object.prototype.toString.call(r),
    r.url,
    r.method,
    [...r.headers],
    r.headers.get('cookie'),
    r.headers.getSetCookie(),
    r.body,
    r.bodyUsed,
    r.signal instanceof AbortSignal,
    r.signal.aborted,
    [r.mode, r.credentials, r.cache, r.redirect, r.referrer, r.referrerPolicy, r.integrity, r.keepalive, r.destination],
    [r.isReloadNavigation, r.isHistoryNavigation, r.duplex],
  ]
  const first = simple(req)
  req.headers.set('x-set', '1')
  req.headers.delete('x-m')
  const copies = [simple(req.clone()), simple(new Request(req)), simple(new Request(req, { headers: { 'x-n': '1' } })), simple(new Request(req.url, req))]
  const bodies = [await outcome(req.clone().text()), await outcome(req.clone().json()), await outcome(req.clone().arrayBuffer()), await outcome(req.clone().blob()), await outcome(req.clone().formData()), await outcome(req.text())]
  return { first, copies, bodies, after: simple(req) }
}

// jsonViews is what a handler can read of Response.json's Responses (for
// comparing the bootstrap's Response.json with undici's): their status and
// headers, their bodies read every way, and the errors of bad calls. It
// runs in fixtures (as source) and in the tests.
async function jsonViews(json, inspect) {
  const head = (r) => [r instanceof Response, Object.getPrototypeOf(r) === Response.prototype, r.status, r.statusText, r.ok, r.type, r.url, r.redirected, [...r.headers], r.headers.getSetCookie(), inspect(r.headers), inspect(r)]
  const cases = [
    [{ a: [1, 'é'] }],
    ['s', { status: 201, statusText: 'Made', headers: { 'x-a': '1', 'Set-Cookie': 'c=1' } }],
    [null, { headers: [['content-type', 'text/plain']] }],
    [1, {}],
    [[1, 2], { headers: new Headers({ 'x-h': '1' }), status: 299 }],
    [{ toJSON: () => 'j' }, undefined],
    [2, { status: 201 }],
    [3, { headers: { 'Cache-Control': 'no-store', 'X-A': '1', 'x-a': '2', 'Set-Cookie': 'a=1', 'set-cookie': 'b=2' } }],
    [4, { status: 299, headers: { 'Content-Type': 'text/plain' }, statusText: undefined }],
    [5, { status: undefined, headers: undefined }],
  ]
  const views = []
  for (const args of cases) {
    const res = json(...args)
    const cloned = head(res.clone())
    const first = head(res)
    res.headers.set('x-later', '1')
    res.headers.append('set-cookie', 'later=1')
    const c = res.clone()
    const reader = res.body.getReader()
    let streamed = ''
    for (let x = await reader.read(); !x.done; x = await reader.read()) streamed += Buffer.from(x.value).toString()
    const blob = await c.clone().blob()
    views.push({
      cloned,
      first,
      streamed,
      used: [res.bodyUsed, c.bodyUsed],
      text: await c.clone().text(),
      json: await c.clone().json(),
      bytes: (await c.clone().arrayBuffer()).byteLength,
      blob: [blob.type, blob.size],
      piped: await new Response(c.clone().body).text(),
      fresh: [await json(...args).text(), json(...args).bodyUsed, json(...args).body instanceof ReadableStream],
      after: [head(c), await c.text(), c.bodyUsed],
    })
  }
  const errors = []
  for (const args of [[], [undefined], [1n], [1, { status: 204 }], [1, { status: 99 }], [1, { headers: { 'bad name': 'x' } }], [1, 'x'], [1, null]]) {
    try {
      json(...args)
      errors.push(null)
    } catch (err) {
      errors.push(`${err.name}: ${err.message}`)
    }
  }
  return { views, errors }
}

// FAST says whether this Node has the bootstrap's lazy Request and
// Response.json: Node 18's undici keeps one more slot (a realm) that they
// do not fill, and its Response prints its internal state (where the lazy
// body would show), so there its Requests and Responses are constructed,
// and the tests check that they read the same.
const FAST = Number(process.versions.node.split('.')[0]) >= 20

// Every test has its own worker process, so they can run side by side.
describe('bootstrap.mjs', { concurrency: 4 }, () => {
  // --- start-up ---------------------------------------------------------------

  test('v1 async handler', async () => {
    const w = await start(`export const handler = async (e) => ({ statusCode: 200, body: e.body })`, 'v1')
    const m = await w.invoke('a1', event({ httpMethod: 'POST', body: 'ping' }))
    assert.deepEqual(m, { type: 'result', id: 'a1', response: { statusCode: 200, body: 'ping' }, logs: false, pending: false })
    // The worker stays warm: a second invocation in the same process.
    const m2 = await w.invoke('a2', event({ body: 'again' }))
    assert.equal(m2.response.body, 'again')
    assert.deepEqual(await w.close(), { code: 0, signal: null })
  })

  test('CommonJS bundled to ESM (export default module.exports)', async () => {
    const w = await start(
      `var m = { exports: {} };
       m.exports.handler = async () => ({ statusCode: 201, body: 'cjs' });
       export default m.exports;`,
      'v1',
    )
    const m = await w.invoke('c1', event())
    assert.deepEqual(m.response, { statusCode: 201, body: 'cjs' })
    await w.close()
  })

  test('v2 default.default function (TS CJS interop)', async () => {
    const w = await start(`export default { default: async () => new Response('interop') }`, 'v2')
    const m = await w.invoke('i1', event())
    assert.equal(m.response.body, 'interop')
    await w.close()
  })

  test('import error is an init_error and exit 1', async () => {
    const w = new Worker(fixture(`throw new RangeError('bad config at import')`))
    const m = await w.next('init_error')
    assert.equal(m.type, 'init_error')
    assert.equal(m.error.errorType, 'RangeError')
    assert.equal(m.error.errorMessage, 'bad config at import')
    assert.ok(m.error.stack.length > 0 && m.error.stack[0].startsWith('    at '), JSON.stringify(m.error.stack))
    assert.deepEqual(await w.exit, { code: 1, signal: null })
  })

  test('a thrown string at import is an init_error', async () => {
    const w = new Worker(fixture(`throw 'plain string'`))
    const m = await w.next('init_error')
    assert.deepEqual(m.error, { errorType: 'Error', errorMessage: 'plain string', stack: [] })
    assert.deepEqual(await w.exit, { code: 1, signal: null })
  })

  test('syntax error is an init_error', async () => {
    const w = new Worker(fixture(`export const handler = ;`))
    const m = await w.next('init_error')
    assert.equal(m.error.errorType, 'SyntaxError')
    assert.deepEqual(await w.exit, { code: 1, signal: null })
  })

  test('module without a handler', async () => {
    const entry = fixture(`export const notAHandler = 1`)
    const w = new Worker(entry)
    const m = await w.next('init_error')
    assert.equal(m.type, 'init_error')
    assert.equal(m.error.errorType, 'Runtime.HandlerNotFound')
    assert.equal(
      m.error.errorMessage,
      `${entry} does not export a handler: export a 'handler' function (Lambda-compatible) or a default function (Netlify Functions 2.0)`,
    )
    assert.deepEqual(await w.exit, { code: 1, signal: null })
  })

  test('missing entry file', async () => {
    const w = new Worker(path.join(dir, 'does-not-exist.mjs'))
    const m = await w.next('init_error')
    assert.equal(m.type, 'init_error')
    assert.match(m.error.errorMessage, /does-not-exist/)
    assert.deepEqual(await w.exit, { code: 1, signal: null })
  })

  test('protocol mismatch', async () => {
    const w = new Worker(fixture(`export const handler = async () => ({})`), { BGFN_PROTOCOL: '2' })
    const m = await w.next('init_error')
    assert.equal(m.error.errorType, 'Runtime.ProtocolMismatch')
    assert.deepEqual(await w.exit, { code: 1, signal: null })
  })

  test('stays alive while idle and exits 0 on EOF of fd 3', async () => {
    const w = await start(`export const handler = async () => ({ statusCode: 200 })`, 'v1')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(w.exited, false)
    assert.deepEqual(await w.close(), { code: 0, signal: null })
  })

  test('messages split across writes and several in one write', async () => {
    const w = await start(`export const handler = async (e) => ({ statusCode: 200, body: e.body })`, 'v1')
    const line = JSON.stringify({ type: 'invoke', id: 's1', event: event({ body: 'é'.repeat(50_000) }), clientContext: null, deadlineMs: Date.now() + 30_000 }) + '\n'
    const bytes = Buffer.from(line)
    // Cut inside a multi-byte character.
    w.child.stdio[3].write(bytes.subarray(0, 1001))
    w.child.stdio[3].write(bytes.subarray(1001))
    const m = await w.next()
    assert.equal(m.response.body, 'é'.repeat(50_000))
    await w.close()
  })

  // --- v1 ---------------------------------------------------------------------

  test('v1 callback style', async () => {
    const w = await start(
      `export function handler(event, context, callback) {
         setTimeout(() => callback(null, { statusCode: 200, body: 'later' }), 10)
       }`,
      'v1',
    )
    const m = await w.invoke('cb1', event())
    assert.deepEqual(m.response, { statusCode: 200, body: 'later' })
    await w.close()
  })

  test('v1 callback error', async () => {
    const w = await start(`export function handler(e, c, cb) { cb(new Error('cb failed')) }`, 'v1')
    const m = await w.invoke('cb2', event())
    assert.equal(m.type, 'error')
    assert.equal(m.error.errorType, 'Error')
    assert.equal(m.error.errorMessage, 'cb failed')
    await w.close()
  })

  test('v1 context.succeed, context.done and context.fail', async () => {
    const w = await start(
      `export function handler(e, c) {
         if (e.how === 'succeed') c.succeed({ statusCode: 200, body: 'ok' })
         else if (e.how === 'done') c.done(null, { statusCode: 202 })
         else c.fail('failed')
       }`,
      'v1',
    )
    assert.deepEqual((await w.invoke('d1', { how: 'succeed' })).response, { statusCode: 200, body: 'ok' })
    assert.deepEqual((await w.invoke('d2', { how: 'done' })).response, { statusCode: 202 })
    const m = await w.invoke('d3', { how: 'fail' })
    assert.deepEqual(m.error, { errorType: 'Error', errorMessage: 'failed', stack: [] })
    await w.close()
  })

  test('v1 resolves once when callback and promise both answer', async () => {
    const w = await start(
      `export const handler = async (e, c, cb) => {
         cb(null, { statusCode: 200, body: 'callback' })
         cb(null, { statusCode: 200, body: 'second callback' })
         return { statusCode: 200, body: 'promise' }
       }`,
      'v1',
    )
    const m = await w.invoke('dbl1', event())
    assert.equal(m.response.body, 'callback')
    // The next answer belongs to the next invocation: nothing stale in between.
    const m2 = await w.invoke('dbl2', event())
    assert.equal(m2.response.body, 'callback')
    await w.close()
  })

  test('v1 late callback from an earlier invocation is ignored', async () => {
    const w = await start(
      `let saved
       export const handler = async (e, c, cb) => {
         if (saved) saved(null, { statusCode: 200, body: 'stale' })
         saved = cb
         return { statusCode: 200, body: e.body }
       }`,
      'v1',
    )
    assert.equal((await w.invoke('late1', event({ body: 'one' }))).response.body, 'one')
    assert.equal((await w.invoke('late2', event({ body: 'two' }))).response.body, 'two')
    await w.close()
  })

  test('v1 non-promise return without callback keeps running', async () => {
    const w = await start(`export function handler() { return { statusCode: 200 } }`, 'v1')
    w.send({ type: 'invoke', id: 'never', event: event(), clientContext: null, deadlineMs: Date.now() + 30_000 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(w.messages, [])
    w.child.kill()
    await w.exit
  })

  test('v1 undefined and null results', async () => {
    const w = await start(`export const handler = async (e) => e.value === 'null' ? null : undefined`, 'v1')
    assert.deepEqual(await w.invoke('u1', {}), { type: 'result', id: 'u1', undefined: true, logs: false, pending: false })
    assert.deepEqual(await w.invoke('u2', { value: 'null' }), { type: 'result', id: 'u2', response: null, logs: false, pending: false })
    await w.close()
  })

  test('v1 unserialisable result is an error', async () => {
    const w = await start(`export const handler = async () => { const o = {}; o.self = o; return o }`, 'v1')
    const m = await w.invoke('circ', {})
    assert.equal(m.type, 'error')
    assert.equal(m.error.errorType, 'TypeError')
    await w.close()
  })

  test('v1 context', async () => {
    const w = await start(
      `export const handler = async (e, c) => {
         const remaining = c.getRemainingTimeInMillis()
         c.callbackWaitsForEmptyEventLoop = false
         return { ...c, remaining, hasIdentity: 'identity' in c, identity: c.identity === undefined ? 'undefined' : c.identity,
                  waits: c.callbackWaitsForEmptyEventLoop, fns: ['getRemainingTimeInMillis', 'done', 'succeed', 'fail'].map((k) => typeof c[k]) }
       }`,
      'v1',
    )
    const cc = { identity: { url: 'https://x/.netlify/identity', token: 't' }, user: { sub: '1' }, custom: { netlify: 'e30=' } }
    const before = Date.now()
    const m = await w.invoke('ctx1', event(), { clientContext: cc, deadlineMs: before + 5000 })
    const c = m.response
    assert.equal(c.functionName, 'hello-fn')
    assert.equal(c.functionVersion, '$LATEST')
    assert.equal(c.invokedFunctionArn, 'arn:aws:lambda:dev:000000000000:function:hello-fn')
    assert.equal(c.memoryLimitInMB, '1024')
    assert.equal(c.awsRequestId, 'ctx1')
    assert.equal(c.logGroupName, '/aws/lambda/hello-fn')
    assert.match(c.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
    assert.equal(c.hasIdentity, true)
    assert.equal(c.identity, 'undefined')
    assert.deepEqual(c.clientContext, cc)
    assert.equal(c.callbackWaitsForEmptyEventLoop, false)
    assert.deepEqual(c.fns, ['function', 'function', 'function', 'function'])
    assert.ok(c.remaining > 0 && c.remaining <= 5000, `remaining ${c.remaining}`)

    // A null clientContext becomes {}; the default for callbackWaitsForEmptyEventLoop is true.
    const m2 = await w.invoke('ctx2', event())
    assert.deepEqual(m2.response.clientContext, {})
    assert.equal(m2.response.waits, false) // set by the handler above, per invocation object
    assert.ok(m2.response.remaining > 25_000)
    await w.close()
  })

  test('v1 callbackWaitsForEmptyEventLoop defaults to true', async () => {
    const w = await start(`export const handler = async (e, c) => ({ waits: c.callbackWaitsForEmptyEventLoop })`, 'v1')
    assert.deepEqual((await w.invoke('w1', {})).response, { waits: true })
    await w.close()
  })

  // --- errors -----------------------------------------------------------------

  test('thrown values of every kind', async () => {
    const w = await start(
      `class MyError extends Error {}
       class Named extends Error { constructor(m) { super(m); this.name = 'NamedError' } }
       export const handler = async (e) => {
         switch (e.kind) {
           case 'error': throw new TypeError('bad type')
           case 'multiline': throw new Error('line one\\nline two')
           case 'subclass': throw new MyError('mine')
           case 'named': throw new Named('named one')
           case 'string': throw 'just a string'
           case 'null': throw null
           case 'undefined': throw undefined
           case 'number': throw 42
           case 'object': throw { message: 'object message' }
           case 'bare': throw Object.create(null)
           case 'nostack': { const err = new Error('no stack'); err.stack = undefined; throw err }
           case 'getter': throw { get message() { throw new Error('nope') } }
           case 'thenable': return { get then() { throw new Error('then getter') } }
         }
       }`,
      'v1',
    )
    const cases = {
      error: { errorType: 'TypeError', errorMessage: 'bad type' },
      multiline: { errorType: 'Error', errorMessage: 'line one\nline two' },
      subclass: { errorType: 'Error', errorMessage: 'mine' },
      named: { errorType: 'NamedError', errorMessage: 'named one' },
      string: { errorType: 'Error', errorMessage: 'just a string', stack: [] },
      null: { errorType: 'Error', errorMessage: 'null', stack: [] },
      undefined: { errorType: 'Error', errorMessage: 'undefined', stack: [] },
      number: { errorType: 'Error', errorMessage: '42', stack: [] },
      object: { errorType: 'Error', errorMessage: 'object message', stack: [] },
      bare: { errorType: 'Error', errorMessage: '[object Object]', stack: [] },
      nostack: { errorType: 'Error', errorMessage: 'no stack', stack: [] },
      getter: { errorType: 'Error', errorMessage: '[object Object]', stack: [] },
      thenable: { errorType: 'Error', errorMessage: 'then getter' },
    }
    for (const [kind, want] of Object.entries(cases)) {
      const m = await w.invoke(`err-${kind}`, { kind })
      assert.equal(m.type, 'error', kind)
      assert.equal(m.logs, false, kind)
      assert.equal(m.error.errorType, want.errorType, kind)
      assert.equal(m.error.errorMessage, want.errorMessage, kind)
      if (want.stack) {
        assert.deepEqual(m.error.stack, want.stack, kind)
      } else {
        assert.ok(m.error.stack.length > 0, kind)
        for (const line of m.error.stack) assert.match(line, /^ {4}at /, kind)
        assert.match(m.error.stack[0], /fn\d+\.mjs/, kind)
      }
    }
    await w.close()
  })

  test('synchronous throw in a v1 handler', async () => {
    const w = await start(`export function handler() { throw new Error('sync boom') }`, 'v1')
    const m = await w.invoke('sync1', {})
    assert.equal(m.error.errorMessage, 'sync boom')
    await w.close()
  })

  // --- logs -------------------------------------------------------------------

  test('logs are followed by the end marker on stdout and stderr', async () => {
    const w = await start(
      `export const handler = async (e) => {
         if (e.log) { console.log('to stdout'); console.error('to stderr') }
         return { statusCode: 200 }
       }`,
      'v1',
    )
    const m = await w.invoke('log1', { log: true })
    assert.equal(m.logs, true)
    await w.markers('log1')
    assert.equal(w.stdout, `to stdout\n${MARK}log1\n`)
    assert.equal(w.stderr, `to stderr\n${MARK}log1\n`)

    // Quiet invocations send no markers.
    const m2 = await w.invoke('log2', { log: false })
    assert.equal(m2.logs, false)
    const m3 = await w.invoke('log3', { log: true })
    assert.equal(m3.logs, true)
    await w.markers('log3')
    assert.equal(w.stdout, `to stdout\n${MARK}log1\nto stdout\n${MARK}log3\n`)
    await w.close()
  })

  test('a partial line is followed by the marker', async () => {
    const w = await start(`export const handler = async () => { process.stdout.write('no newline'); return { statusCode: 200 } }`, 'v1')
    const m = await w.invoke('part1', {})
    assert.equal(m.logs, true)
    await w.markers('part1')
    assert.equal(w.stdout, `no newline${MARK}part1\n`)
    assert.equal(w.stderr, `${MARK}part1\n`)
    await w.close()
  })

  test('the marker follows every byte of a large log', async () => {
    const w = await start(
      `export const handler = async () => {
         for (let i = 0; i < 2000; i++) console.log('line ' + i + ' ' + 'x'.repeat(200))
         return { statusCode: 200 }
       }`,
      'v1',
    )
    const m = await w.invoke('big1', {})
    assert.equal(m.logs, true)
    await w.markers('big1')
    const lines = w.stdout.split('\n')
    assert.equal(lines.length, 2002)
    assert.equal(lines[2000], `${MARK}big1`)
    assert.equal(lines[1999], 'line 1999 ' + 'x'.repeat(200))
    await w.close()
  })

  test('the result waits until logs the pipe could not take yet are flushed', async () => {
    const w = await start(
      `export const handler = async () => {
         process.stdout.write('y'.repeat(1 << 20) + '\\n')
         console.error('small')
         return { statusCode: 200 }
       }`,
      'v1',
    )
    w.child.stdout.pause()
    w.send({ type: 'invoke', id: 'full1', event: {}, clientContext: null, deadlineMs: Date.now() + 30_000 })
    // The marker is queued behind 1 MiB nobody reads, so no result yet.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(w.messages, [])
    w.child.stdout.resume()
    const m = await w.next()
    assert.equal(m.logs, true)
    await w.markers('full1')
    assert.equal(w.stdout.length, (1 << 20) + 1 + `${MARK}full1\n`.length)
    assert.ok(w.stdout.endsWith(`y\n${MARK}full1\n`))
    assert.equal(w.stderr, `small\n${MARK}full1\n`)
    await w.close()
  })

  test('logs during an error', async () => {
    const w = await start(`export const handler = async () => { console.warn('about to fail'); throw new Error('x') }`, 'v1')
    const m = await w.invoke('le1', {})
    assert.equal(m.type, 'error')
    assert.equal(m.logs, true)
    await w.markers('le1')
    assert.equal(w.stderr, `about to fail\n${MARK}le1\n`)
    await w.close()
  })

  // --- v2 ---------------------------------------------------------------------

  test('v2 Response', async () => {
    const w = await start(
      `export default async (req) => {
         const body = await req.text()
         return new Response(req.method + ' ' + body + ' ' + req.headers.get('x-multi'), {
           status: 201, headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain; charset=utf-8' } })
       }`,
      'v2',
    )
    const m = await w.invoke(
      'v2a',
      event({
        httpMethod: 'POST',
        headers: { 'x-multi': 'one, two' },
        multiValueHeaders: { 'x-multi': ['one', 'two'], 'content-type': ['application/octet-stream'] },
        body: Buffer.from('héllo').toString('base64'),
        isBase64Encoded: true,
      }),
    )
    assert.deepEqual(m, {
      type: 'result',
      id: 'v2a',
      response: {
        statusCode: 201,
        multiValueHeaders: { 'content-type': ['text/plain; charset=utf-8'], 'x-custom': ['yes'] },
        body: 'POST héllo one, two',
        isBase64Encoded: false,
      },
      logs: false,
      pending: false,
    })
    await w.close()
  })

  test('v2 request from single-value headers and a GET ignores the body', async () => {
    const w = await start(`export default async (req) => Response.json({ m: req.method, h: req.headers.get('x-a'), b: await req.text(), u: req.url })`, 'v2')
    const m = await w.invoke('v2h', event({ headers: { 'x-a': '1' }, multiValueHeaders: {}, body: 'ignored', rawUrl: 'http://localhost:8888/p?q=1' }))
    assert.deepEqual(JSON.parse(m.response.body), { m: 'GET', h: '1', b: '', u: 'http://localhost:8888/p?q=1' })
    assert.deepEqual(m.response.multiValueHeaders, { 'content-type': ['application/json'] })
    await w.close()
  })

  test('v2 returning nothing gives 204', async () => {
    const w = await start(`export default async (req, context) => { if (req.headers.get('x-cookie')) context.cookies.set('a', 'b') }`, 'v2')
    assert.deepEqual((await w.invoke('n1', event())).response, { statusCode: 204, multiValueHeaders: {}, body: '', isBase64Encoded: false })
    assert.deepEqual((await w.invoke('n2', event({ multiValueHeaders: { 'x-cookie': ['1'] } }))).response, {
      statusCode: 204,
      multiValueHeaders: { 'set-cookie': ['a=b'] },
      body: '',
      isBase64Encoded: false,
    })
    await w.close()
  })

  test('v2 returning something other than a Response or nothing is an error naming the function and type', async () => {
    const w = await start(
      `export default async (req) => { const k = req.headers.get('x-k'); if (k === 'lambda') return { statusCode: 200, body: 'hi' }; if (k === 'null') return null; if (k === 'str') return 'hello'; return [1] }`,
      'v2',
    )
    const cases = [
      ['lambda', /returned a Lambda-style object \{statusCode, body\}.*new Response\(body, \{ status: statusCode, headers \}\)/],
      ['null', /returned null: /],
      ['str', /returned a string: .*must return a Response or nothing/],
      ['arr', /returned an array: /],
    ]
    for (const [k, re] of cases) {
      const m = await w.invoke('nr-' + k, event({ multiValueHeaders: { 'x-k': [k] } }))
      assert.equal(m.type, 'error', k)
      assert.equal(m.error.errorType, 'TypeError')
      assert.match(m.error.errorMessage, /^Function hello-fn returned /)
      assert.match(m.error.errorMessage, re)
      assert.deepEqual(m.error.stack, [])
    }
    await w.close()
  })

  test('a module that never finishes loading exits when fd 3 closes', async () => {
    // The pending timer keeps the event loop alive, as a real hang (a
    // connection that never opens) would.
    const w = new Worker(fixture(`setInterval(() => {}, 1000); await new Promise(() => {}); export const handler = () => 1`))
    workers.add(w)
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(w.exited, false)
    w.child.stdio[3].end()
    const { code } = await w.exit
    assert.equal(code, 0)
  })

  test('v2 binary response is base64', async () => {
    const w = await start(
      `export default () => new Response(new Uint8Array([0, 1, 2, 254, 255]), { headers: { 'content-type': 'image/png' } })`,
      'v2',
    )
    const m = await w.invoke('bin1', event())
    assert.deepEqual(m.response, {
      statusCode: 200,
      multiValueHeaders: { 'content-type': ['image/png'] },
      body: Buffer.from([0, 1, 2, 254, 255]).toString('base64'),
      isBase64Encoded: true,
    })
    await w.close()
  })

  test('v2 text type that is not UTF-8, and no content type at all, are base64', async () => {
    const w = await start(
      `export default (req) => req.headers.get('x-t') === 'text'
         ? new Response(new Uint8Array([0xff, 0xfe]), { headers: { 'content-type': 'text/plain' } })
         : new Response(new Uint8Array([104, 105]))`,
      'v2',
    )
    const a = await w.invoke('t1', event({ multiValueHeaders: { 'x-t': ['text'] } }))
    assert.equal(a.response.isBase64Encoded, true)
    assert.equal(a.response.body, '//4=')
    const b = await w.invoke('t2', event())
    assert.deepEqual(b.response, { statusCode: 200, multiValueHeaders: {}, body: 'aGk=', isBase64Encoded: true })
    await w.close()
  })

  test('v2 textual content types', async () => {
    const w = await start(`export default (req) => new Response('x', { headers: { 'content-type': req.headers.get('x-ct') } })`, 'v2')
    const types = {
      'application/json': false,
      'application/ld+json; charset=utf-8': false,
      'image/svg+xml': false,
      'application/x-www-form-urlencoded': false,
      'application/javascript': false,
      'TEXT/HTML': false,
      'application/octet-stream': true,
      'application/pdf': true,
    }
    let i = 0
    for (const [ct, base64] of Object.entries(types)) {
      const m = await w.invoke(`ct${i++}`, event({ multiValueHeaders: { 'x-ct': [ct] } }))
      assert.equal(m.response.isBase64Encoded, base64, ct)
    }
    await w.close()
  })

  test('v2 cookies', async () => {
    const w = await start(
      `export default (req, context) => {
         if (Object.keys(context.cookies).length !== 0) throw new Error('cookies has own properties')
       const seen = context.cookies.get('session')
         context.cookies.set('plain', 'v1')
         context.cookies.set({ name: 'full', value: 'v2', path: '/', httpOnly: true, secure: true, sameSite: 'Lax', maxAge: 60, domain: 'example.com', expires: new Date(0) })
         context.cookies.delete('old')
         const res = new Response(String(seen) + ' ' + String(context.cookies.get('missing')))
         res.headers.append('set-cookie', 'own=1')
         res.headers.append('set-cookie', 'own2=2; Path=/')
         return res
       }`,
      'v2',
    )
    const m = await w.invoke('ck1', event({ multiValueHeaders: { cookie: ['session=abc; theme=dark'] } }))
    assert.equal(m.response.body, 'abc undefined')
    assert.deepEqual(m.response.multiValueHeaders['set-cookie'], [
      'own=1',
      'own2=2; Path=/',
      'plain=v1',
      'full=v2; Secure; HttpOnly; Max-Age=60; Domain=example.com; SameSite=Lax; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'old=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    ])
    await w.close()
  })

  test('v2 invalid cookie is an error', async () => {
    const w = await start(`export default (req, context) => { context.cookies.set('bad name', 'v') }`, 'v2')
    const m = await w.invoke('ck2', event())
    assert.equal(m.type, 'error')
    assert.equal(m.error.errorType, 'TypeError')
    await w.close()
  })

  test('v2 context', async () => {
    const geo = { city: 'Paris', country: { code: 'FR', name: 'France' }, subdivision: { code: 'IDF', name: 'Île-de-France' }, latitude: 48.8, longitude: 2.3, timezone: 'Europe/Paris' }
    const w = await start(
      `export default async (req, context) => {
         let nextError
         try { context.next() } catch (err) { nextError = err.message }
         const j = context.json({ a: 1 })
         return Response.json({
           requestId: context.requestId, ip: context.ip, geo: context.geo, params: context.params, path: context.path,
           url: context.url.href, urlIsURL: context.url instanceof URL, site: context.site, deploy: context.deploy,
           account: context.account, server: context.server, flags: context.flags, nextError,
           json: [j.status, j.headers.get('content-type'), await j.text()],
           netlifyContext: Netlify.context === context, envGet: Netlify.env.get('MY_VAR'), envHas: Netlify.env.has('MY_VAR'),
           envHasNot: Netlify.env.has('NOPE_NOT_SET'), types: ['log', 'waitUntil', 'rewrite'].map((k) => typeof context[k]),
         })
       }`,
      'v2',
      { SITE_ID: 'site-1', SITE_NAME: 'my-site', URL: 'http://localhost:8888', MY_VAR: 'hello' },
    )
    const m = await w.invoke(
      'ctx-v2',
      event({
        route: '/api/:name',
        rawUrl: 'http://localhost:8888/api/world?x=1',
        multiValueHeaders: {
          'x-nf-request-id': ['01REQ'],
          'x-nf-client-connection-ip': ['203.0.113.7'],
          'x-nf-geo': [Buffer.from(JSON.stringify(geo)).toString('base64')],
        },
      }),
      { params: { name: 'world' } },
    )
    const c = JSON.parse(m.response.body)
    assert.equal(c.requestId, '01REQ')
    assert.equal(c.ip, '203.0.113.7')
    assert.deepEqual(c.geo, { ...geo, postalCode: '' })
    assert.deepEqual(c.params, { name: 'world' })
    assert.equal(c.path, '/api/:name')
    assert.equal(c.url, 'http://localhost:8888/api/world?x=1')
    assert.equal(c.urlIsURL, true)
    assert.deepEqual(c.site, { id: 'site-1', name: 'my-site', url: 'http://localhost:8888' })
    assert.deepEqual(c.deploy, { context: 'dev', id: '0', published: false })
    assert.deepEqual(c.account, { id: '' })
    assert.deepEqual(c.server, { region: 'dev' })
    assert.deepEqual(c.flags, {})
    assert.equal(c.nextError, 'context.next is not implemented for serverless functions')
    assert.deepEqual(c.json, [200, 'application/json', '{"a":1}'])
    assert.equal(c.netlifyContext, true)
    assert.equal(c.envGet, 'hello')
    assert.equal(c.envHas, true)
    assert.equal(c.envHasNot, false)
    assert.deepEqual(c.types, ['function', 'function', 'function'])

    // Defaults: no headers, no params.
    const m2 = await w.invoke('ctx-v2b', event({ multiValueHeaders: {} }))
    const d = JSON.parse(m2.response.body)
    assert.equal(d.requestId, 'ctx-v2b')
    assert.equal(d.ip, '')
    assert.deepEqual(d.params, {})
    assert.equal(d.path, undefined)
    assert.deepEqual(d.geo, { city: '', country: { code: '', name: '' }, subdivision: { code: '', name: '' }, latitude: 0, longitude: 0, timezone: 'UTC', postalCode: '' })
    await w.close()
  })

  test('Netlify global in a v1 function', async () => {
    const w = await start(
      `Netlify.env.set('SET_AT_IMPORT', 'yes')
       export const handler = async () => {
         Netlify.env.delete('TO_DELETE')
         return { context: Netlify.context, set: Netlify.env.get('SET_AT_IMPORT'), deleted: Netlify.env.has('TO_DELETE'), obj: Netlify.env.toObject().SET_AT_IMPORT }
       }`,
      'v1',
      { TO_DELETE: 'x' },
    )
    assert.deepEqual((await w.invoke('nl1', {})).response, { context: null, set: 'yes', deleted: false, obj: 'yes' })
    await w.close()
  })

  test('v2 waitUntil keeps the worker busy until it settles', async () => {
    const w = await start(
      `export default async (req, context) => {
         const later = new Promise((resolve) => setTimeout(resolve, 50))
         context.waitUntil(later.then(() => console.log('background done')))
         context.waitUntil(later.then(() => { throw new Error('background failed') }))
         return new Response('now')
       }`,
      'v2',
    )
    const m = await w.invoke('wu1', event())
    assert.equal(m.type, 'result')
    assert.equal(m.response.body, 'now')
    assert.equal(m.pending, true)
    assert.equal(m.logs, false)
    const idle = await w.next('idle')
    assert.deepEqual(idle, { type: 'idle', id: 'wu1', logs: true })
    await w.markers('wu1')
    assert.equal(w.stdout, `background done\n${MARK}wu1\n`)
    assert.match(w.stderr, /context\.waitUntil promise rejected: Error: background failed/)
    assert.ok(w.stderr.endsWith(`${MARK}wu1\n`))
    await w.close()
  })

  test('v2 waitUntil that settled before the response is not pending', async () => {
    const w = await start(
      `export default async (req, context) => {
         context.waitUntil(Promise.resolve())
         await new Promise((resolve) => setTimeout(resolve, 5))
         return new Response('ok')
       }`,
      'v2',
    )
    const m = await w.invoke('wu2', event())
    assert.equal(m.pending, false)
    const m2 = await w.invoke('wu3', event())
    assert.equal(m2.pending, false)
    await w.close()
  })

  test('v2 thrown error and rejected body', async () => {
    const w = await start(
      `export default async (req) => {
         if (req.headers.get('x-kind') === 'throw') throw new SyntaxError('bad v2')
         return new Response(new ReadableStream({ pull(c) { c.error(new Error('stream broke')) } }))
       }`,
      'v2',
    )
    const a = await w.invoke('v2e1', event({ multiValueHeaders: { 'x-kind': ['throw'] } }))
    assert.equal(a.type, 'error')
    assert.equal(a.error.errorType, 'SyntaxError')
    assert.equal(a.error.errorMessage, 'bad v2')
    const b = await w.invoke('v2e2', event())
    assert.equal(b.type, 'error')
    assert.equal(b.error.errorMessage, 'stream broke')
    await w.close()
  })

  test('v2 header that is not Latin-1 gives a plain 500', async () => {
    const w = await start(
      `export default () => ({
         status: 200,
         headers: new Map([['x-name', '日本']]),
         arrayBuffer: async () => new ArrayBuffer(0),
       })`,
      'v2',
    )
    const m = await w.invoke('l1', event())
    assert.equal(m.type, 'result')
    assert.equal(m.response.statusCode, 500)
    assert.deepEqual(m.response.multiValueHeaders, { 'content-type': ['text/plain'] })
    assert.match(m.response.body, /x-name.*Latin-1/)
    await w.close()
  })

  test('v2 streamed response body', async () => {
    const w = await start(
      `export default () => new Response(new ReadableStream({
         start(c) { c.enqueue(new TextEncoder().encode('a')); c.enqueue(new TextEncoder().encode('b')); c.close() }
       }), { headers: { 'content-type': 'text/event-stream' } })`,
      'v2',
    )
    const m = await w.invoke('st1', event())
    assert.equal(m.response.body, 'ab')
    assert.equal(m.response.isBase64Encoded, false)
    await w.close()
  })

  // Every kind of Response a handler may return, read whole: the bootstrap
  // reads some straight from undici's state and the rest through their
  // stream, and each must come out as its own body, status and headers.
  test('v2 Response kinds: body, status and headers of each', async () => {
    const w = await start(
      `class MyResponse extends Response {}
       class Lying extends Response { get body() { return new Response('from the getter').body } }
       const kinds = {
         json: () => Response.json({ a: 1, s: 'é' }, { status: 201, headers: { 'x-a': 'b' } }),
         text: () => new Response('plain', { status: 404, statusText: 'Nope' }),
         empty: () => new Response(''),
         none: () => new Response(null, { status: 202, headers: { 'x-n': '1' } }),
         redirect: () => Response.redirect('http://example.com/next', 307),
         bytes: () => { const u = new Uint8Array([104, 105]); const r = new Response(u, { headers: { 'content-type': 'text/plain' } }); u[0] = 0; return r },
         view: () => new Response(new Uint8Array([0, 104, 105, 33, 0]).subarray(1, 4), { headers: { 'content-type': 'text/plain' } }),
         arraybuffer: () => new Response(new Uint8Array([0xff, 0x00, 0xfe]).buffer, { headers: { 'content-type': 'text/plain' } }),
         binary: () => new Response(new Uint8Array([0xc3, 0x28, 0x00, 0xff]), { headers: { 'content-type': 'application/json' } }),
         surrogate: () => new Response('a\\ud800b', { headers: { 'content-type': 'text/plain' } }),
         blob: () => new Response(new Blob(['blob ', 'body'], { type: 'text/plain' })),
         params: () => new Response(new URLSearchParams({ a: '1', b: 'x y' })),
         form: () => { const f = new FormData(); f.append('field', 'value'); return new Response(f) },
         clone: () => new Response('cloned body').clone(),
         original: () => { const r = new Response('original body'); r.clone(); return r },
         cloneread: async () => { const r = new Response('tee body'); const c = r.clone(); await c.text(); return r },
         used: async () => { const r = new Response('read already'); await r.text(); return r },
         locked: () => { const r = new Response('locked body'); r.body.getReader(); return r },
         partial: async () => { const r = new Response('partly'); await r.body.getReader().read(); return r },
         subclass: () => new MyResponse('sub body', { status: 203 }),
         getter: () => new Lying('hidden'),
         stream: () => new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('str')); c.enqueue('eam'); c.close() } })),
         data: () => fetch('data:text/plain;charset=utf-8,fetched%20body'),
         cookies: (ctx) => {
           const r = new Response('c', { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2; Path=/'], ['x-two', 'x'], ['x-two', 'y']] })
           ctx.cookies.set('c', '3')
           return r
         },
       }
       export default (req, ctx) => kinds[req.headers.get('x-kind')](ctx)`,
      'v2',
    )
    const b64 = (bytes) => Buffer.from(bytes).toString('base64')
    const cases = {
      json: [201, { 'content-type': ['application/json'], 'x-a': ['b'] }, '{"a":1,"s":"é"}', false],
      text: [404, { 'content-type': ['text/plain;charset=UTF-8'] }, 'plain', false],
      empty: [200, { 'content-type': ['text/plain;charset=UTF-8'] }, '', false],
      none: [202, { 'x-n': ['1'] }, '', false],
      redirect: [307, { location: ['http://example.com/next'] }, '', false],
      bytes: [200, { 'content-type': ['text/plain'] }, 'hi', false],
      view: [200, { 'content-type': ['text/plain'] }, 'hi!', false],
      arraybuffer: [200, { 'content-type': ['text/plain'] }, b64([0xff, 0x00, 0xfe]), true],
      binary: [200, { 'content-type': ['application/json'] }, b64([0xc3, 0x28, 0x00, 0xff]), true],
      surrogate: [200, { 'content-type': ['text/plain'] }, 'a\ufffdb', false],
      blob: [200, { 'content-type': ['text/plain'] }, 'blob body', false],
      params: [200, { 'content-type': ['application/x-www-form-urlencoded;charset=UTF-8'] }, 'a=1&b=x+y', false],
      clone: [200, { 'content-type': ['text/plain;charset=UTF-8'] }, 'cloned body', false],
      original: [200, { 'content-type': ['text/plain;charset=UTF-8'] }, 'original body', false],
      cloneread: [200, { 'content-type': ['text/plain;charset=UTF-8'] }, 'tee body', false],
      subclass: [203, { 'content-type': ['text/plain;charset=UTF-8'] }, 'sub body', false],
      getter: [200, { 'content-type': ['text/plain;charset=UTF-8'] }, 'from the getter', false],
      stream: [200, {}, b64(Buffer.from('stream')), true],
      data: [200, { 'content-type': ['text/plain;charset=utf-8'] }, 'fetched body', false],
      cookies: [200, { 'content-type': ['text/plain;charset=UTF-8'], 'x-two': ['x, y'], 'set-cookie': ['a=1', 'b=2; Path=/', 'c=3'] }, 'c', false],
    }
    for (const [kind, [statusCode, multiValueHeaders, body, isBase64Encoded]] of Object.entries(cases)) {
      const m = await w.invoke('k-' + kind, event({ multiValueHeaders: { 'x-kind': [kind] } }))
      assert.equal(m.type, 'result', kind + ': ' + JSON.stringify(m))
      assert.deepEqual(m.response, { statusCode, multiValueHeaders, body, isBase64Encoded }, kind)
    }
    // FormData: a multipart body whose boundary is the content type's.
    const f = await w.invoke('k-form', event({ multiValueHeaders: { 'x-kind': ['form'] } }))
    const ct = f.response.multiValueHeaders['content-type'][0]
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(ct)?.[1]
    assert.ok(boundary, ct)
    const text = f.response.isBase64Encoded ? Buffer.from(f.response.body, 'base64').toString() : f.response.body
    assert.match(text, new RegExp('^--' + boundary + '\\r\\nContent-Disposition: form-data; name="field"\\r\\n\\r\\nvalue\\r\\n--' + boundary + '--'))
    // A body already read, or locked by the handler (a reader it kept),
    // cannot be read again:
    // an error, as for any unusable body, never the bytes it once had.
    for (const kind of ['used', 'locked', 'partial']) {
      const m = await w.invoke('k-' + kind, event({ multiValueHeaders: { 'x-kind': [kind] } }))
      assert.equal(m.type, 'error', kind + ': ' + JSON.stringify(m))
      assert.equal(m.error.errorType, 'TypeError', kind)
    }
    await w.close()
  })

  // The common bodies (a string, bytes, Response.json, none) are read from
  // undici's state without touching their stream: with the stream reader
  // broken, they still answer; a stream body still needs it.
  test('v2 string, bytes, JSON and null bodies are read without their stream', async () => {
    const w = await start(
      `ReadableStream.prototype.getReader = function () { throw new Error('the stream was read') }
       const kinds = {
         text: () => new Response('t'),
         bytes: () => new Response(new Uint8Array([98])),
         json: () => Response.json(1),
         none: () => new Response(null),
         stream: () => new Response(new ReadableStream({ start(c) { c.close() } })),
       }
       export default (req) => kinds[req.headers.get('x-kind')]()`,
      'v2',
    )
    for (const [kind, body] of [['text', 't'], ['bytes', 'Yg=='], ['json', '1'], ['none', '']]) {
      const m = await w.invoke('f-' + kind, event({ multiValueHeaders: { 'x-kind': [kind] } }))
      assert.equal(m.type, 'result', kind + ': ' + JSON.stringify(m))
      assert.equal(m.response.body, body, kind)
    }
    const m = await w.invoke('f-stream', event({ multiValueHeaders: { 'x-kind': ['stream'] } }))
    assert.equal(m.type, 'error')
    assert.equal(m.error.errorMessage, 'the stream was read')
    await w.close()
  })

  test('v2 request headers: pairs, repeated values, a value that is not Latin-1, a name Headers refuses', async () => {
    const w = await start(
      `export default (req) => Response.json({ all: [...req.headers], multi: req.headers.get('x-multi'), ok: req instanceof Request })`,
      'v2',
    )
    const m = await w.invoke('rh1', event({ multiValueHeaders: { host: ['localhost:8888'], 'x-multi': ['one', 'two'], 'x-num': [7] } }))
    assert.deepEqual(JSON.parse(m.response.body), {
      all: [['host', 'localhost:8888'], ['x-multi', 'one, two'], ['x-num', '7']],
      multi: 'one, two',
      ok: true,
    })
    // A UTF-8 value becomes its Latin-1 reading (as Node's HTTP server gives
    // it); a name with a space is dropped; the other headers stay.
    const bad = await w.invoke('rh2', event({ multiValueHeaders: { 'x-utf': ['h€llo'], 'bad name': ['x'], 'x-ok': ['yes'] } }))
    assert.deepEqual(JSON.parse(bad.response.body), {
      all: [['x-ok', 'yes'], ['x-utf', 'h\u00e2\u0082\u00acllo']],
      multi: null,
      ok: true,
    })
    // With no multiValueHeaders, headers are read.
    const single = await w.invoke('rh3', event({ headers: { 'x-one': '1', 'x-null': null }, multiValueHeaders: {} }))
    assert.deepEqual(JSON.parse(single.response.body).all, [['x-one', '1']])
    // Values with white space at the ends are trimmed, upper-case names
    // lower-cased, cookies kept apart from other values: what the Headers
    // API does, whichever way the Request was filled.
    const odd = await w.invoke('rh4', event({ multiValueHeaders: { 'x-pad': ['  padded\t'], 'x-empty': [''], cookie: ['a=1; b=2'], 'x-tab': ['a\tb'] } }))
    assert.deepEqual(JSON.parse(odd.response.body).all, [['cookie', 'a=1; b=2'], ['x-empty', ''], ['x-pad', 'padded'], ['x-tab', 'a\tb']])
    const upper = await w.invoke('rh5', event({ multiValueHeaders: { 'X-Upper': ['u'], 'x-lower': ['l'] } }))
    assert.deepEqual(JSON.parse(upper.response.body).all, [['x-lower', 'l'], ['x-upper', 'u']])
    await w.close()
  })

  test('v2 request body and its content type', async () => {
    const w = await start(
      `export default async (req) => Response.json({ ct: req.headers.get('content-type'), body: await req.text(), m: req.method })`,
      'v2',
    )
    const cases = [
      ['json', event({ httpMethod: 'POST', multiValueHeaders: { 'content-type': ['application/json'] }, body: '{"a":1}' }), { ct: 'application/json', body: '{"a":1}', m: 'POST' }],
      ['none', event({ httpMethod: 'PUT', multiValueHeaders: { host: ['h'] }, body: 'raw' }), { ct: 'text/plain;charset=UTF-8', body: 'raw', m: 'PUT' }],
      ['empty', event({ httpMethod: 'POST', multiValueHeaders: { 'content-type': ['text/csv'] }, body: '' }), { ct: 'text/csv', body: '', m: 'POST' }],
      ['nobody', event({ httpMethod: 'DELETE', multiValueHeaders: { 'content-type': ['text/csv'] } }), { ct: 'text/csv', body: '', m: 'DELETE' }],
      ['get', event({ multiValueHeaders: { 'content-type': ['text/csv'] }, body: 'dropped' }), { ct: 'text/csv', body: '', m: 'GET' }],
    ]
    for (const [name, ev, want] of cases) {
      const m = await w.invoke('rb-' + name, ev)
      assert.deepEqual(JSON.parse(m.response.body), want, name)
    }
    await w.close()
  })

  test('v2 lazy Request: a bodiless request is filled on first use and reads as a constructed one', async () => {
    const w = await start(
      `const view = ${requestView.toString()}
       const isLazy = (req) => {
         const st = Object.getOwnPropertySymbols(req).find((s) => s.description === 'state')
         return typeof Object.getOwnPropertyDescriptor(req, st)?.get === 'function'
       }
       export default async (req, ctx) => {
         const lazy = isLazy(req)
         const c = [ctx.ip, ctx.requestId, ctx.cookies.get('a'), ctx.geo.city, ctx.account.id]
         const afterContext = isLazy(req)
         return Response.json({ lazy, afterContext, c, view: await view(req), lazyAfter: isLazy(req) })
       }`,
      'v2',
    )
    const cases = [
      ['get', 'GET', 'http://localhost:8888/p/a?q=1&r=%20#h', { host: ['localhost:8888'], cookie: ['a=1', 'b=2'], 'x-m': ['1', '2'], 'x-nf-client-connection-ip': ['203.0.113.7'], 'x-nf-request-id': ['01R'] }, true],
      ['head', 'HEAD', 'https://example.com', { 'x-empty': [''] }, true],
      ['delete', 'DELETE', 'http://localhost:8888/d', { 'content-type': ['text/csv'] }, true],
      ['options', 'options', 'http://localhost:8888/o', { 'x-o': ['1'] }, true],
      // Not plain: the Context's reads fill the Request (the Headers API
      // trims, lower-cases, reads UTF-8 as Latin-1, drops a bad name).
      ['odd', 'GET', 'http://localhost:8888/', { 'x-pad': ['  padded\t'], 'X-Upper': ['u'], 'x-utf': ['h€llo'], 'bad name': ['x'] }, false],
    ]
    for (const [name, method, rawUrl, mvh, plain] of cases) {
      const m = await w.invoke('lz-' + name, event({ httpMethod: method, rawUrl, multiValueHeaders: mvh }))
      assert.equal(m.type, 'result', name + ': ' + JSON.stringify(m))
      const got = JSON.parse(m.response.body)
      const headers = new Headers()
      for (const [n, vs] of Object.entries(mvh)) {
        for (const v of vs) {
          try {
            headers.append(n, v)
          } catch {
            try {
              headers.append(n, Buffer.from(v, 'utf8').toString('latin1'))
            } catch {}
          }
        }
      }
      const want = await requestView(new Request(rawUrl, { method: method.toUpperCase(), headers }))
      assert.deepEqual(got.view, want, name)
      assert.equal(got.lazy, FAST && plain, name)
      assert.equal(got.afterContext, FAST && plain, name)
      assert.equal(got.lazyAfter, false, name)
      if (name === 'get') assert.deepEqual(got.c, ['203.0.113.7', '01R', '1', '', ''])
    }
    await w.close()
  })

  test('v2 Requests that are constructed: a body, credentials in the URL, an unusual or forbidden method', async () => {
    const w = await start(
      `export default async (req) => {
         const st = Object.getOwnPropertySymbols(req).find((s) => s.description === 'state')
         return Response.json({ lazy: typeof Object.getOwnPropertyDescriptor(req, st)?.get === 'function', m: req.method, u: req.url, b: await req.text() })
       }`,
      'v2',
    )
    const post = await w.invoke('cr-post', event({ httpMethod: 'POST', body: 'x', multiValueHeaders: {} }))
    assert.deepEqual(JSON.parse(post.response.body), { lazy: false, m: 'POST', u: 'http://localhost:8888/.netlify/functions/hello', b: 'x' })
    const custom = await w.invoke('cr-custom', event({ httpMethod: 'PROPFIND' }))
    assert.deepEqual(JSON.parse(custom.response.body), { lazy: false, m: 'PROPFIND', u: 'http://localhost:8888/.netlify/functions/hello', b: '' })
    const cred = await w.invoke('cr-cred', event({ rawUrl: 'http://user:pw@localhost:8888/' }))
    assert.equal(cred.type, 'error')
    assert.match(cred.error.errorMessage, /credentials/)
    const bad = await w.invoke('cr-bad', event({ rawUrl: 'http://local host/' }))
    assert.equal(bad.type, 'error')
    assert.match(bad.error.errorMessage, /Failed to parse URL/)
    const connect = await w.invoke('cr-connect', event({ httpMethod: 'CONNECT' }))
    assert.equal(connect.type, 'error')
    assert.match(connect.error.errorMessage, /unsupported/)
    await w.close()
  })

  test('v2 Response.json: the Response undici makes, its body stream made on first use', async () => {
    const w = await start(
      `import { inspect } from 'node:util'
       const jsonViews = ${jsonViews.toString()}
       export default async () => {
         const r = Response.json({ a: 1 }, { headers: { 'X-A': '1' } })
         const syms = Object.getOwnPropertySymbols(r)
         const st = syms.find((s) => s.description === 'state')
         const hs = syms.find((s) => s.description === 'headers')
         const lazy = r[st].body.constructor.name === 'LazyBody' && r[st].body.made === null
         const bare = typeof Object.getOwnPropertyDescriptor(r, hs).get === 'function'
         void r.body
         return Response.json({ lazy, bare, made: r[st].body.made instanceof ReadableStream, views: await jsonViews(Response.json, inspect) })
       }`,
      'v2',
    )
    const m = await w.invoke('rj', event())
    assert.equal(m.type, 'result', JSON.stringify(m))
    const got = JSON.parse(m.response.body)
    assert.equal(got.lazy, FAST)
    assert.equal(got.bare, FAST)
    assert.equal(got.made, FAST)
    assert.deepEqual(got.views, JSON.parse(JSON.stringify(await jsonViews(Response.json, inspect))))
    await w.close()
  })

  test('v2 a Response.json body the handler read, locked or only looked at', async () => {
    const w = await start(
      `export default async (req, ctx) => {
         const r = Response.json({ a: 1 })
         const k = req.headers.get('x-k')
         if (k === 'unread') {
           // The answer leaves the bare Response's Headers slot unfilled.
           const hs = Object.getOwnPropertySymbols(r).find((s) => s.description === 'headers')
           ctx.waitUntil(new Promise((res) => setTimeout(res, 10)).then(() => console.log('slot after the answer', typeof Object.getOwnPropertyDescriptor(r, hs).get)))
         }
         if (k === 'used') await r.text()
         if (k === 'locked') r.body.getReader()
         if (k === 'body') void r.body
         if (k === 'used-clone') await r.clone().text()
         if (k === 'headers') return Response.json({ a: 1 }, { status: 201, headers: { 'Cache-Control': 'no-store', 'X-A': '1', 'x-a': '2', 'Set-Cookie': 'a=1', 'set-cookie': 'b=2' } })
         if (k === 'mutated') {
           const m = Response.json({ a: 1 }, { headers: { 'X-A': '1' } })
           m.headers.set('x-later', '2')
           m.headers.delete('x-a')
           return m
         }
         if (k === 'typed') return Response.json({ a: 1 }, { headers: { 'Content-Type': 'application/octet-stream' } })
         return r
       }`,
      'v2',
    )
    for (const k of ['used', 'locked']) {
      const m = await w.invoke('ru-' + k, event({ multiValueHeaders: { 'x-k': [k] } }))
      assert.equal(m.type, 'error', k)
      assert.equal(m.error.errorMessage, 'Invalid state: ReadableStream is locked', k)
    }
    for (const k of ['body', 'used-clone', 'none']) {
      const m = await w.invoke('ru-' + k, event({ multiValueHeaders: { 'x-k': [k] } }))
      assert.equal(m.type, 'result', k)
      assert.deepEqual(m.response, { statusCode: 200, multiValueHeaders: { 'content-type': ['application/json'] }, body: '{"a":1}', isBase64Encoded: false }, k)
    }
    const h = await w.invoke('ru-headers', event({ multiValueHeaders: { 'x-k': ['headers'] } }))
    assert.deepEqual(h.response, {
      statusCode: 201,
      multiValueHeaders: { 'cache-control': ['no-store'], 'x-a': ['1, 2'], 'set-cookie': ['a=1', 'b=2'], 'content-type': ['application/json'] },
      body: '{"a":1}',
      isBase64Encoded: false,
    })
    const un = await w.invoke('ru-unread', event({ multiValueHeaders: { 'x-k': ['unread'] } }))
    assert.deepEqual(un.response.multiValueHeaders, { 'content-type': ['application/json'] })
    assert.deepEqual(await w.next('idle'), { type: 'idle', id: 'ru-unread', logs: true })
    await w.markers('ru-unread')
    assert.match(w.stdout, FAST ? /slot after the answer function\n/ : /slot after the answer undefined\n/)
    const mu = await w.invoke('ru-mutated', event({ multiValueHeaders: { 'x-k': ['mutated'] } }))
    assert.deepEqual(mu.response.multiValueHeaders, { 'x-later': ['2'], 'content-type': ['application/json'] })
    const t = await w.invoke('ru-typed', event({ multiValueHeaders: { 'x-k': ['typed'] } }))
    assert.deepEqual(t.response, { statusCode: 200, multiValueHeaders: { 'content-type': ['application/octet-stream'] }, body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true })
    await w.close()
  })

  test('v2 Response headers are read from the header list, as the Headers API gives them', async () => {
    const w = await start(
      `export default (req, ctx) => {
         // After the first invocation (which probes), reading the headers
         // through the Headers API fails: the fast path must not use it.
         if (req.headers.get('x-patch') === '1') {
           Headers.prototype[Symbol.iterator] = Headers.prototype.entries = () => { throw new Error('headers iterated') }
           Headers.prototype.getSetCookie = () => { throw new Error('getSetCookie called') }
         }
         ctx.cookies.set('ctx', '1')
         const res = new Response('b', { headers: [['X-Mixed', ' a '], ['x-mixed', 'b'], ['Set-Cookie', 's=1'], ['set-cookie', 't=2'], ['x-gone', '1'], ['content-type', 'text/plain']] })
         res.headers.delete('x-gone')
         res.headers.set('X-Set', 'v')
         return res
       }`,
      'v2',
    )
    const want = { 'x-mixed': ['a, b'], 'x-set': ['v'], 'content-type': ['text/plain'], 'set-cookie': ['s=1', 't=2', 'ctx=1'] }
    for (const patch of ['0', '1']) {
      const m = await w.invoke('lh-' + patch, event({ multiValueHeaders: { 'x-patch': [patch] } }))
      assert.equal(m.type, 'result', JSON.stringify(m))
      assert.deepEqual(m.response.multiValueHeaders, want, patch)
      assert.equal(m.response.body, 'b')
    }
    await w.close()
  })

  test('v2 string bodies: well-formed text as it is, a lone surrogate as U+FFFD, base64 when not textual', async () => {
    const w = await start(
      `const kinds = {
         text: () => new Response('héllo €', { headers: { 'content-type': 'text/plain' } }),
         lone: () => new Response('a\\ud800b', { headers: { 'content-type': 'text/plain' } }),
         binary: () => new Response('hé', { headers: { 'content-type': 'application/octet-stream' } }),
         json: () => Response.json({ s: 'a\\ud800b', e: '€' }),
         jsonBinary: () => Response.json('é', { headers: { 'content-type': 'image/png' } }),
         empty: () => Response.json('', { headers: { 'content-type': 'text/plain' } }),
       }
       export default (req) => kinds[req.headers.get('x-kind')]()`,
      'v2',
    )
    const cases = [
      ['text', 'héllo €', false],
      ['lone', 'a\ufffdb', false],
      ['binary', Buffer.from('hé').toString('base64'), true],
      ['json', '{"s":"a\\ud800b","e":"€"}', false],
      ['jsonBinary', Buffer.from('"é"').toString('base64'), true],
      ['empty', '""', false],
    ]
    for (const [kind, body, b64] of cases) {
      const m = await w.invoke('sb-' + kind, event({ multiValueHeaders: { 'x-kind': [kind] } }))
      assert.equal(m.type, 'result', kind)
      assert.equal(m.response.body, body, kind)
      assert.equal(m.response.isBase64Encoded, b64, kind)
    }
    await w.close()
  })

  test('v2 logs and markers', async () => {
    const w = await start(`export default (req, context) => { context.log('v2 log'); return new Response('x') }`, 'v2')
    const m = await w.invoke('v2l', event())
    assert.equal(m.logs, true)
    await w.markers('v2l')
    assert.equal(w.stdout, `v2 log\n${MARK}v2l\n`)
    await w.close()
  })

  // --- streamed responses, exit calls (issue 15) ---------------------------------

  // chunks reads chunk messages of id until an end message, sending credit
  // for each when credit is set; it returns the bytes and the end.
  async function readStream(w, id, credit) {
    const parts = []
    for (;;) {
      const m = await w.next(`stream of ${id}`)
      assert.equal(m.id, id)
      if (m.type === 'end') return { body: Buffer.concat(parts), end: m }
      assert.equal(m.type, 'chunk')
      const b = Buffer.from(m.d, 'base64')
      parts.push(b)
      if (credit) w.send({ type: 'credit', id, n: b.length + 256 })
    }
  }

  test('v2 stream: head, chunks as written, end', async () => {
    // The pull waits 100 ms: long enough that the probe (one turn of the event
    // loop) sees the read pending even when a loaded machine stalls the test.
    const w = await start(
      `export default () => new Response(new ReadableStream({
         async pull(c) { await new Promise((r) => setTimeout(r, 100)); c.enqueue('x'.repeat(40000)); c.enqueue(new Uint8Array([1, 2])); c.close() },
       }), { status: 201, headers: { 'content-type': 'text/plain' } })`,
      'v2',
    )
    const head = await w.invoke('s1', event())
    assert.deepEqual(head, { type: 'head', id: 's1', response: { statusCode: 201, multiValueHeaders: { 'content-type': ['text/plain'] } } })
    const { body, end } = await readStream(w, 's1', true)
    assert.equal(body.length, 40002)
    assert.deepEqual(end, { type: 'end', id: 's1', logs: false, pending: false })
    // A body ready at once is still a whole result.
    await w.close()
  })

  test('v2 stream waits for credit: at most the window in flight', async () => {
    const w = await start(
      `export default () => { let n = 0; return new Response(new ReadableStream({
         async pull(c) { await new Promise((r) => setImmediate(r)); if (n++ === 48) c.close(); else c.enqueue(new Uint8Array(64 << 10)) },
       })) }`,
      'v2',
    )
    const head = await w.invoke('s2', event())
    assert.equal(head.type, 'head')
    // 48 chunks of 64 KiB = 3 MiB; without credit only 1 MiB may come.
    let inFlight = 0
    const window = 1 << 20
    const seen = []
    await w.until('a full window', () => {
      while (w.messages.length > 0) seen.push(w.messages.shift())
      inFlight = seen.reduce((n, m) => n + Buffer.from(m.d, 'base64').length + 256, 0)
      return inFlight > window - (32 << 10) - 256 ? true : undefined
    })
    // Nothing more comes until bgfn gives credit (a bounded wait for
    // something that must not happen).
    await new Promise((r) => setTimeout(r, 150))
    assert.equal(w.messages.length, 0, 'chunks past the window before any credit')
    assert.ok(inFlight <= window)
    w.send({ type: 'credit', id: 's2', n: inFlight })
    const { body, end } = await readStream(w, 's2', true)
    assert.equal(end.type, 'end')
    assert.equal(body.length + seen.reduce((n, m) => n + Buffer.from(m.d, 'base64').length, 0), 48 * (64 << 10))
    await w.close()
  })

  test('abort cancels a v2 stream and aborts req.signal', async () => {
    const w = await start(
      `export default (req) => {
         req.signal.addEventListener('abort', () => console.log('signal', req.signal.reason.name))
         let t
         return new Response(new ReadableStream({
           start(c) { t = setInterval(() => c.enqueue('tick'), 5) },
           cancel() { clearInterval(t); console.log('cancelled') },
         }))
       }`,
      'v2',
    )
    assert.equal((await w.invoke('s3', event())).type, 'head')
    const first = await w.next('a chunk')
    assert.equal(first.type, 'chunk')
    w.send({ type: 'abort', id: 's3' })
    const end = await w.until('the end', () => {
      const i = w.messages.findIndex((m) => m.type === 'end')
      return i === -1 ? undefined : w.messages[i]
    })
    assert.deepEqual(end, { type: 'end', id: 's3', aborted: true, logs: true, pending: false })
    await w.markers('s3')
    assert.match(w.stdout, /signal AbortError\n/)
    assert.match(w.stdout, /cancelled\n/)
    await w.close()
  })

  test('v1 awslambda.streamifyResponse with HttpResponseStream.from', async () => {
    const w = await start(
      `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
         const rs = awslambda.HttpResponseStream.from(responseStream, { statusCode: 202, headers: { 'x-a': 'b' } })
         rs.write('one,')
         await new Promise((r) => setTimeout(r, 5))
         rs.end('two')
       })`,
      'v1',
    )
    const head = await w.invoke('v1s', event())
    assert.deepEqual(head, { type: 'head', id: 'v1s', response: { statusCode: 202, headers: { 'x-a': 'b' } } })
    const { body, end } = await readStream(w, 'v1s', true)
    assert.equal(body.toString(), 'one,two')
    assert.deepEqual(end, { type: 'end', id: 'v1s', logs: false, pending: false })
    // A streaming handler that throws before writing is an ordinary error.
    await w.close()
  })

  test('v1 streaming handler that throws before its head fails the invocation', async () => {
    const w = await start(`export const handler = awslambda.streamifyResponse(async () => { throw new TypeError('no stream') })`, 'v1')
    const m = await w.invoke('v1e', event())
    assert.equal(m.type, 'error')
    assert.equal(m.error.errorType, 'TypeError')
    assert.equal(m.error.errorMessage, 'no stream')
    await w.close()
  })

  test('process.exit says which invocation was running', async () => {
    const w = await start(
      `export default async (req) => {
         const mode = new URL(req.url).searchParams.get('mode')
         if (mode === 'now') process.exit(0)
         setImmediate(() => process.exit(4))
         return new Response('bye')
       }`,
      'v2',
    )
    const m = await w.invoke('x1', event())
    assert.equal(m.type, 'result')
    assert.deepEqual(await w.next('the exit call'), { type: 'exit_call', id: null, code: 4 })
    assert.deepEqual(await w.exit, { code: 4, signal: null })
    const w2 = await start(`export default async () => { process.exit(0) }`, 'v2')
    w2.send({ type: 'invoke', id: 'x2', event: event(), deadlineMs: Date.now() + 30_000 })
    assert.deepEqual(await w2.next('the exit call'), { type: 'exit_call', id: 'x2', code: 0 })
  })

  test('a v2 stream that fails half way ends with its error; waitUntil work after a stream', async () => {
    const w = await start(
      `export default (req, context) => {
         const fail = new URL(req.url).searchParams.get('fail') === '1'
         // Long enough to outlast the stream however late its timers fire.
         if (!fail) context.waitUntil(new Promise((r) => setTimeout(r, 400)))
         let n = 0
         return new Response(new ReadableStream({
           async pull(c) {
             await new Promise((r) => setTimeout(r, 100))
             if (n++ === 0) c.enqueue('first')
             else if (fail) c.error(new RangeError('source broke'))
             else c.close()
           },
         }))
       }`,
      'v2',
    )
    assert.equal((await w.invoke('f1', event({ rawUrl: 'http://localhost/x?fail=1' }))).type, 'head')
    const broken = await readStream(w, 'f1', true)
    assert.equal(broken.body.toString(), 'first')
    assert.equal(broken.end.error.errorType, 'RangeError')
    assert.equal(broken.end.error.errorMessage, 'source broke')
    assert.equal((await w.invoke('f2', event())).type, 'head')
    const ok = await readStream(w, 'f2', true)
    assert.deepEqual(ok.end, { type: 'end', id: 'f2', logs: false, pending: true })
    assert.deepEqual(await w.next('idle'), { type: 'idle', id: 'f2', logs: false })
    await w.close()
  })
})

describe('bootstrap.mjs: v2 handler objects and the request-context store', { concurrency: 4 }, () => {
  const post = (slug, body) =>
    event({
      httpMethod: 'POST',
      headers: { host: 'localhost:8888', 'x-netlify-event': slug },
      multiValueHeaders: { host: ['localhost:8888'], 'x-netlify-event': [slug], 'content-type': ['application/json'] },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const deploy = { payload: { id: 'd1', state: 'ready', created_at: '2026-01-01T00:00:00Z', branch: 'main' }, site: { id: 's1', name: 'n', url: 'u', admin_url: 'a' } }
  const user = (email) => ({ user: { id: 'u1', email, created_at: '2026-01-01T00:00:00Z', app_metadata: { provider: 'email', roles: ['x'] }, user_metadata: { full_name: 'Ada' } } })

  test('event methods, fetch for the rest, Netlify\'s 400 and 401', async () => {
    const w = await start(
      `export default {
         deploySucceeded(e) { console.log('deploy', e.deploy.id, e.deploy.branch, e.site.adminUrl, this === undefined) },
         userSignup(e) { if (e.user.email.endsWith('@no.example')) return e.deny() },
         userLogin(e) { return { user: { ...e.user, name: 'Renamed' } } },
         fetch(req) { return new Response('fetch ' + (req.headers.get('x-netlify-event') ?? '-')) },
       }`,
      'v2',
    )
    let m = await w.invoke('e1', post('deploy_succeeded', deploy))
    assert.equal(m.type, 'result')
    assert.equal(m.response.statusCode, 200)
    assert.equal(m.response.body, '')
    assert.match(w.stdout, /deploy d1 main a true/)
    m = await w.invoke('e2', post('deploy_succeeded', { payload: { id: 'd1' }, site: {} }))
    assert.equal(m.response.statusCode, 400)
    assert.deepEqual(JSON.parse(m.response.body), { error: 'Invalid event payload for "deploy_succeeded": missing "payload.state"' })
    m = await w.invoke('e3', post('identity_signup', '{not json'))
    assert.equal(m.response.statusCode, 400)
    assert.deepEqual(JSON.parse(m.response.body), { error: 'Failed to parse event payload as JSON for "identity_signup"' })
    m = await w.invoke('e4', post('identity_signup', user('eve@no.example')))
    assert.equal(m.response.statusCode, 401)
    m = await w.invoke('e5', post('identity_signup', user('ada@ok.example')))
    assert.equal(m.response.statusCode, 200)
    m = await w.invoke('e6', post('identity_login', user('ada@ok.example')))
    assert.equal(m.response.statusCode, 200)
    const back = JSON.parse(m.response.body)
    assert.equal(back.user_metadata.full_name, 'Renamed')
    assert.deepEqual(back.app_metadata, { provider: 'email', roles: ['x'] })
    // No method for the event, or no event: fetch.
    m = await w.invoke('e7', post('deploy_failed', deploy))
    assert.equal(m.response.body, 'fetch deploy_failed')
    m = await w.invoke('e8', event())
    assert.equal(m.response.body, 'fetch -')
    await w.close()
  })

  test('an object without fetch fails other requests with a clear error', async () => {
    const w = await start(`export default { deployFailed() {} }`, 'v2')
    const m = await w.invoke('n1', event())
    assert.equal(m.type, 'error')
    assert.match(m.error.errorMessage, /^Function hello-fn's default export is an object without a fetch method: add fetch\(req, context\)/)
    await w.close()
  })

  test('an object with no handler method is not a handler', async () => {
    const w = new Worker(fixture(`export default { hello: 1 }`))
    const m = await w.next('init_error')
    assert.equal(m.type, 'init_error')
    assert.equal(m.error.errorType, 'Runtime.HandlerNotFound')
  })

  test('getContext store, Netlify.context and netlifyIdentityContext', async () => {
    const w = await start(
      `import { AsyncLocalStorage } from 'node:async_hooks'
       const store = globalThis[Symbol.for('@netlify/functions/request-context-store')]
       export default async (req, context) => {
         const same = store.getStore()?.context === context
         await new Promise((r) => setTimeout(r, 2))
         return Response.json({
           isALS: store instanceof AsyncLocalStorage, same, afterAwait: store.getStore()?.context === context,
           netlify: Netlify.context === context, identity: globalThis.netlifyIdentityContext?.user?.email ?? null,
           hasEmpty: Netlify.env.has('EMPTY'), obj: Netlify.env.toObject().EMPTY,
         })
       }`,
      'v2',
      { EMPTY: '' },
    )
    const info = Buffer.from(JSON.stringify({ url: 'http://x/.netlify/identity', token: 't', user: { email: 'ada@example.com' } })).toString('base64')
    let m = await w.invoke('s1', event({ multiValueHeaders: { 'x-nf-identity-info': [info] } }))
    assert.deepEqual(JSON.parse(m.response.body), { isALS: true, same: true, afterAwait: true, netlify: true, identity: 'ada@example.com', hasEmpty: false, obj: '' })
    m = await w.invoke('s2', event({ multiValueHeaders: { 'x-nf-identity-info': ['%%%'] } }))
    assert.equal(JSON.parse(m.response.body).identity, null)
    await w.markers('s2')
    assert.match(w.stderr, /Failed to decode identity data from X-Nf-Identity-Info header/)
    await w.close()
  })
})
