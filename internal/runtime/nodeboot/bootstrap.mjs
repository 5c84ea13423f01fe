// bgfn Node bootstrap: loads one bundled function and runs its invocations.
//
// The wire protocol with bgfn is specified in PROTOCOL.md next to this file.
// In short: requests arrive as JSON lines on fd 3, answers leave as JSON lines
// on fd 4, and fd 1/2 carry only the user's own output (plus an end marker
// after each invocation that printed something).
//
// It runs in one of three modes. A process (the default) loads one function
// in its main thread. A host (BGFN_HOST=1) loads nothing itself: it runs
// instances, each a worker thread of this same file that loads one
// function, and relays their messages over fd 3 and fd 4, tagged with the
// instance's number. A thread is such an instance: its messages and its
// console output travel to the host as thread messages, in the order it
// made them, so no end markers are needed.
//
// Everything here runs once per invocation in a warm process, so the hot path
// avoids allocations it does not need; startup imports only what every
// function needs.

import * as fs from 'node:fs'
import * as net from 'node:net'
import * as nodeBuffer from 'node:buffer'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { AsyncLocalStorage } from 'node:async_hooks'
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads'
import * as workerThreads from 'node:worker_threads'

const MODE = !isMainThread ? 'thread' : process.env.BGFN_HOST === '1' ? 'host' : 'process'
const env = process.env
// These follow the environment; a spare worker learns its function (and
// so these values) only from its load message, so they are recomputed then.
let FUNCTION_NAME, REGION, MEMORY, ARN, LOG_GROUP, LOG_STREAM
function configure() {
  FUNCTION_NAME = env.BGFN_FUNCTION_NAME || 'function'
  REGION = env.AWS_REGION || 'dev'
  MEMORY = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || '1024'
  ARN = `arn:aws:lambda:${REGION}:000000000000:function:${FUNCTION_NAME}`
  LOG_GROUP = `/aws/lambda/${FUNCTION_NAME}`
  LOG_STREAM = env.AWS_LAMBDA_LOG_STREAM_NAME || logStreamName()
}
configure()
// isUtf8 arrived in Node 18.14; without it textual bodies are trusted.
const isUtf8 = nodeBuffer.isUtf8 ?? (() => true)

// ---------------------------------------------------------------------------
// Output: fd 4 for messages, fd 1/2 markers.

let out = null // fd 4 stream

// In a host, the main thread and every instance thread write fd 4
// themselves, each line with one locked, blocking write, so lines never
// interleave and an instance's logs and results leave in the order it made
// them, without a hop through the main thread. lock holds the writer's
// thread id + 1 (the host frees the lock of a thread that was terminated
// while holding it).
const lock = MODE === 'process' ? null : new Int32Array(MODE === 'host' ? new SharedArrayBuffer(4) : workerData.lock)
const nap = new Int32Array(new SharedArrayBuffer(4))
let instPrefix = '' // a thread's '{"inst":N,'

function lockedWrite(text) {
  const me = threadIdPlusOne()
  for (;;) {
    const held = Atomics.compareExchange(lock, 0, 0, me)
    if (held === 0) break
    Atomics.wait(lock, 0, held, 5)
  }
  try {
    writeAll(text)
  } finally {
    unlockOut()
  }
}

function unlockOut() {
  Atomics.store(lock, 0, 0)
  Atomics.notify(lock, 0, 1)
}

// writeAll writes text to fd 4 whole, napping while the pipe is full (bgfn
// reads it).
function writeAll(text) {
  const buf = Buffer.from(text)
  let off = 0
  while (off < buf.length) {
    try {
      off += fs.writeSync(4, buf, off)
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err
      Atomics.wait(nap, 0, 0, 1)
    }
  }
}

// The host's main thread never waits for the lock: a thread terminated
// while it held the lock is freed by the main thread's exit handler, which
// could not run while the main thread waited. Its lines queue instead, and
// go out as soon as the lock is free.
const HOST_LOCK = 1 // the main thread's threadId (0) + 1
const hostLines = []
let hostRetry = null
function hostWrite(text) {
  hostLines.push(text)
  flushHostLines()
}

function flushHostLines() {
  if (hostLines.length === 0) return
  if (Atomics.compareExchange(lock, 0, 0, HOST_LOCK) !== 0) {
    hostRetry ??= setTimeout(() => {
      hostRetry = null
      flushHostLines()
    }, 1)
    return
  }
  try {
    writeAll(hostLines.join(''))
    hostLines.length = 0
  } finally {
    unlockOut()
  }
}

let myThreadId = -1
function threadIdPlusOne() {
  if (myThreadId < 0) myThreadId = threadId
  return myThreadId + 1
}

function openOut() {
  if (MODE === 'thread') {
    out = { write: (line) => lockedWrite(instPrefix + line.slice(1)) }
    return
  }
  if (MODE === 'host') {
    out = { write: hostWrite }
    return
  }
  try {
    out = new net.Socket({ fd: 4, readable: false, writable: true })
  } catch {
    // Not a pipe (a file, when run by hand): fall back to an fs stream.
    out = fs.createWriteStream(null, { fd: 4 })
  }
  out.on('error', () => process.exit(1))
}

// wrote is set by every write to process.stdout/stderr; it tells whether the
// current phase of the invocation printed something.
let wrote = false

// The real stdio streams once something created them (process.stdout and
// process.stderr are lazy getters; we keep them lazy because creating a
// stream costs start-up time that a function that never logs need not pay).
const streams = [null, null, null]
const rawWrite = [null, null, null]

function hookStdio(name, fd) {
  if (MODE === 'thread') {
    // A thread's stdio would reach the host asynchronously, on a channel of
    // its own; sending it as messages keeps it in order with the results.
    const stream = process[name]
    const head = '"type":"log","s":' + fd + ',"d":'
    stream.write = function write(chunk, encoding, cb) {
      if (typeof encoding === 'function') cb = encoding
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
      lockedWrite(instPrefix + head + JSON.stringify(text) + '}\n')
      if (typeof cb === 'function') process.nextTick(cb)
      return true
    }
    return
  }
  const desc = Object.getOwnPropertyDescriptor(process, name)
  const wrap = (stream) => {
    const orig = stream.write
    rawWrite[fd] = orig
    streams[fd] = stream
    stream.write = function write(chunk, encoding, cb) {
      wrote = true
      return orig.call(this, chunk, encoding, cb)
    }
    return stream
  }
  if (desc && desc.get && desc.configurable) {
    let stream = null
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: desc.enumerable,
      get() {
        if (stream === null) stream = wrap(desc.get.call(process))
        return stream
      },
    })
  } else {
    wrap(process[name])
  }
}

// writeMarker writes the end marker to fd after everything the user wrote to
// it. When the stream has nothing queued (the usual case: pipes on Linux are
// written synchronously) that is one write(2); when it is backed up, the
// marker is queued behind the user's data and done runs once it is flushed.
// It returns true when the marker is already written.
function writeMarker(fd, marker, done) {
  let stream = streams[fd]
  if (stream === null || !(stream.writableLength > 0)) {
    try {
      const n = fs.writeSync(fd, marker)
      if (n === marker.length || n === Buffer.byteLength(marker)) return true
      marker = Buffer.from(marker).subarray(n) // a short write: queue the rest
    } catch (err) {
      // EPIPE, EBADF: nobody reads the stream, so nobody waits for the marker.
      if (err.code !== 'EAGAIN') return true
    }
    // The pipe is full (the user wrote to the fd directly): let the stream
    // wait for room.
    if (stream === null) stream = fd === 1 ? process.stdout : process.stderr
  }
  rawWrite[fd].call(stream, marker, done)
  return false
}

// emit writes line to fd 4, after the end markers when logs is true.
function emit(id, line, logs, then) {
  if (!logs || MODE === 'thread') {
    out.write(line)
    if (then !== undefined) then()
    return
  }
  const marker = '\u0000bgfn:end:' + id + '\n'
  let waiting = 1
  const done = () => {
    if (--waiting === 0) {
      out.write(line)
      if (then !== undefined) then()
    }
  }
  waiting++
  if (writeMarker(1, marker, done)) waiting--
  waiting++
  if (writeMarker(2, marker, done)) waiting--
  done()
}

// ---------------------------------------------------------------------------
// Errors.

const FRAME = /^\s+at /

// errorInfo turns anything thrown into the protocol's error shape without
// ever throwing itself.
function errorInfo(value) {
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    let name, message, stack
    try {
      name = value.name
      message = value.message
      stack = value.stack
    } catch {
      // A throwing getter: fall through to String(value).
    }
    if (typeof message === 'string' || value instanceof Error) {
      return {
        errorType: typeof name === 'string' && name !== '' ? name : constructorName(value),
        errorMessage: typeof message === 'string' ? message : safeString(message),
        stack: stackLines(stack),
      }
    }
  }
  return { errorType: 'Error', errorMessage: safeString(value), stack: [] }
}

function constructorName(value) {
  try {
    const c = value.constructor
    if (typeof c === 'function' && typeof c.name === 'string' && c.name !== '' && c !== Object) return c.name
  } catch {}
  return 'Error'
}

function safeString(value) {
  try {
    return String(value)
  } catch {
    try {
      return Object.prototype.toString.call(value)
    } catch {
      return 'Unknown error'
    }
  }
}

// stackLines returns the frames of a stack: the lines after the
// "Name: message" header, which may itself span several lines.
function stackLines(stack) {
  if (typeof stack !== 'string') return []
  const lines = stack.split('\n')
  for (let i = 1; i < lines.length; i++) {
    if (FRAME.test(lines[i])) {
      const frames = lines.slice(i)
      while (frames.length > 0 && frames[frames.length - 1] === '') frames.pop()
      return frames
    }
  }
  return []
}

// ---------------------------------------------------------------------------
// Invocations.

// Invocation is the state of one invoke message. Callbacks from an earlier
// invocation hold their own Invocation, so they can never settle a later one.
class Invocation {
  constructor(id) {
    this.id = typeof id === 'string' ? id : String(id ?? '')
    this.idJSON = JSON.stringify(this.id)
    this.settled = false
    this.waiting = 0 // unsettled waitUntil promises
    this.announced = false // the result said pending:true
    this.resultSent = false
    this.idleSent = false
    this.cookies = null
    this.identity = null // decoded x-nf-identity-info (v2)
    this.controller = null // the v2 request's AbortController, made on first use
    this.abortReason = undefined // set when the client went away
    running = this
  }
}

// running is the invocation whose work is not over (its answer, a stream,
// waitUntil work), or null: process.exit tells bgfn which one it ends.
let running = null

let current = null // the v2 Context of the running invocation (Netlify.context)

function succeed(inv, value) {
  if (inv.settled) return
  inv.settled = true
  let json
  try {
    json = JSON.stringify(value)
  } catch (err) {
    finish(inv, errorHead(inv, err))
    return
  }
  if (json === undefined) {
    finish(inv, '{"type":"result","id":' + inv.idJSON + ',"undefined":true')
  } else {
    finish(inv, '{"type":"result","id":' + inv.idJSON + ',"response":' + json)
  }
}

function fail(inv, err) {
  if (inv.settled) return
  inv.settled = true
  finish(inv, errorHead(inv, err))
}

function errorHead(inv, err) {
  return '{"type":"error","id":' + inv.idJSON + ',"error":' + JSON.stringify(errorInfo(err))
}

// finish completes head (a message without its closing fields) and sends it.
function finish(inv, head) {
  if (inv.id === WARM_ID) {
    warmEnded(inv)
    return
  }
  const logs = wrote
  wrote = false
  const pending = inv.waiting > 0
  inv.announced = pending
  const line = head + (logs ? ',"logs":true' : ',"logs":false') + (pending ? ',"pending":true}\n' : ',"pending":false}\n')
  emit(inv.id, line, logs, () => {
    inv.resultSent = true
    if (!pending) {
      current = null
      if (running === inv) running = null
    } else if (inv.waiting === 0) sendIdle(inv)
  })
}

function sendIdle(inv) {
  if (inv.idleSent) return
  inv.idleSent = true
  current = null
  const logs = wrote
  wrote = false
  emit(inv.id, '{"type":"idle","id":' + inv.idJSON + (logs ? ',"logs":true}\n' : ',"logs":false}\n'), logs, () => {
    if (running === inv) running = null
  })
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function'
}

// --- v1 ---------------------------------------------------------------------

function invokeV1(handler, msg) {
  const inv = new Invocation(msg.id)
  const callback = (err, res) => {
    if (err !== undefined && err !== null) fail(inv, err)
    else succeed(inv, res)
  }
  const context = v1Context(inv, msg, callback)
  let ret
  try {
    ret = handler(msg.event, context, callback)
  } catch (err) {
    fail(inv, err)
    return
  }
  // A non-promise return leaves the invocation to the callback, as Lambda
  // does; if it is never called, bgfn's timeout ends the invocation.
  try {
    if (isThenable(ret)) {
      ret.then(
        (res) => succeed(inv, res),
        (err) => fail(inv, err),
      )
    }
  } catch (err) {
    fail(inv, err) // a thenable whose then getter or method throws
  }
}

// v1Context is a v1 handler's Lambda context.
function v1Context(inv, msg, callback) {
  const deadline = typeof msg.deadlineMs === 'number' ? msg.deadlineMs : Date.now() + 30000
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: ARN,
    memoryLimitInMB: MEMORY,
    awsRequestId: inv.id,
    logGroupName: LOG_GROUP,
    logStreamName: LOG_STREAM,
    identity: undefined,
    clientContext: msg.clientContext ?? {},
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: callback,
    succeed: (res) => succeed(inv, res),
    fail: (err) => fail(inv, err),
  }
}

// --- v2 ---------------------------------------------------------------------

const TEXT_TYPES = new Set([
  'application/csp-report',
  'application/graphql',
  'application/javascript',
  'application/json',
  'application/x-www-form-urlencoded',
  'application/x-ndjson',
  'application/xml',
])

// isTextual mirrors Netlify's shouldBase64Encode (negated).
function isTextual(contentType) {
  if (!contentType) return false
  let t = contentType
  const semi = t.indexOf(';')
  if (semi !== -1) t = t.slice(0, semi)
  t = t.trim().toLowerCase()
  return t.startsWith('text/') || t.endsWith('+json') || t.endsWith('+xml') || TEXT_TYPES.has(t)
}

function appendHeader(headers, name, value) {
  if (value === null || value === undefined) return
  value = String(value)
  try {
    headers.append(name, value)
  } catch {
    // Header values reach us as UTF-8; Node's own HTTP server would expose
    // the raw bytes as Latin-1 characters, so do the same before giving up.
    try {
      headers.append(name, Buffer.from(value, 'utf8').toString('latin1'))
    } catch {}
  }
}

// buildRequest makes a v2 handler's Request. It hands the headers to the
// Request as [name, value] pairs, which costs undici less than filling a
// Headers first; when one of them is refused (a value that is not
// Latin-1), it builds the Headers one by one, with the Latin-1 fallback.
function buildRequest(event) {
  const pairs = headerPairs(event)
  if (pairs !== null) {
    try {
      const req = listedRequest(event, pairs)
      if (req !== null) return req
      return newRequest(event, pairs)
    } catch {
      // A header undici refuses: build it the slow way, which fixes or drops it.
    }
  }
  return newRequest(event, eventHeaders(event))
}

// hasEntries reports whether v is an object with at least one key: an
// event's multiValueHeaders, when they are given, take the place of its
// headers.
function hasEntries(v) {
  if (v === null || typeof v !== 'object') return false
  for (const _ in v) return true
  return false
}

// headerPairs returns the event's headers as [name, value] pairs
// (multiValueHeaders, else headers, as eventHeaders reads them), or null
// when there are none to give.
function headerPairs(event) {
  const pairs = []
  const mv = event.multiValueHeaders
  if (hasEntries(mv)) {
    for (const name in mv) {
      const values = mv[name]
      if (Array.isArray(values)) {
        for (let i = 0; i < values.length; i++) {
          const v = values[i]
          if (v !== null && v !== undefined) pairs.push([name, String(v)])
        }
      } else if (values !== null && values !== undefined) {
        pairs.push([name, String(values)])
      }
    }
  } else if (event.headers !== null && typeof event.headers === 'object') {
    const h = event.headers
    for (const name in h) {
      const v = h[name]
      if (v !== null && v !== undefined) pairs.push([name, String(v)])
    }
  } else {
    return null
  }
  return pairs
}

// The fast path for a Request's headers. Filling them through the Headers
// API (WebIDL conversions, normalising and validating each value) is most
// of what building a v2 Request costs in a thread whose JIT is still cold.
// Node's Request (undici) keeps its headers in a list on its internal
// state, with an append method of its own; headers that are plainly valid
// (a lower-case token name, a Latin-1 value with no control characters and
// no white space at either end, which is what bgfn sends) are appended to
// it directly. The list is found once, by probing a known Request; when the
// probe fails, or a header is not plainly valid, the Headers API is used.
let requestState // undefined: not probed yet; null: no fast path
const PLAIN_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/
const PLAIN_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/

// probeRequestState returns the symbol under which Request keeps its state
// (whose headersList appends as the Headers API does), or null.
function probeRequestState() {
  try {
    const req = new Request('http://localhost/', { method: 'GET', headers: [['x-a', '1']] })
    for (const sym of Object.getOwnPropertySymbols(req)) {
      const list = req[sym]?.headersList
      if (list === null || typeof list !== 'object' || typeof list.append !== 'function') continue
      list.append('x-b', '2', true)
      list.append('x-b', '3', true)
      list.append('set-cookie', 'c=4', true)
      const all = JSON.stringify([...req.headers])
      if (all === '[["set-cookie","c=4"],["x-a","1"],["x-b","2, 3"]]' && req.headers.get('x-b') === '2, 3') return sym
    }
  } catch {}
  return null
}

// listedRequest builds the Request of a bodiless event with its headers
// appended straight to the Request's list, or returns null when it cannot
// (no fast path, a body, which would give the Request a default
// content-type first, or a header that is not plainly valid).
function listedRequest(event, pairs) {
  if (requestState === undefined) requestState = probeRequestState()
  if (requestState === null) return null
  const method = typeof event.httpMethod === 'string' && event.httpMethod !== '' ? event.httpMethod.toUpperCase() : 'GET'
  if (method !== 'GET' && method !== 'HEAD' && typeof event.body === 'string') return null
  for (let i = 0; i < pairs.length; i++) {
    if (!PLAIN_NAME.test(pairs[i][0]) || !PLAIN_VALUE.test(pairs[i][1])) return null
  }
  const req = newRequest(event, undefined)
  const list = req[requestState].headersList
  for (let i = 0; i < pairs.length; i++) list.append(pairs[i][0], pairs[i][1], true)
  return req
}

// newRequest builds the Request of event with headers (a Headers or pairs).
function newRequest(event, headers) {
  const method = typeof event.httpMethod === 'string' && event.httpMethod !== '' ? event.httpMethod.toUpperCase() : 'GET'
  const init = headers === undefined ? { method } : { method, headers }
  if (method !== 'GET' && method !== 'HEAD' && typeof event.body === 'string') {
    init.body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body
  }
  let url = event.rawUrl
  if (typeof url !== 'string' || url === '') {
    url = 'http://localhost' + (event.path || '/') + (event.rawQuery ? '?' + event.rawQuery : '')
  }
  return new Request(url, init)
}

// eventHeaders fills a Headers from the event one value at a time: a value
// Headers refuses is retried as Latin-1, then dropped.
function eventHeaders(event) {
  const headers = new Headers()
  const mv = event.multiValueHeaders
  if (hasEntries(mv)) {
    for (const name in mv) {
      const values = mv[name]
      if (Array.isArray(values)) {
        for (let i = 0; i < values.length; i++) appendHeader(headers, name, values[i])
      } else {
        appendHeader(headers, name, values)
      }
    }
  } else if (event.headers !== null && typeof event.headers === 'object') {
    for (const name in event.headers) appendHeader(headers, name, event.headers[name])
  }
  return headers
}

function defaultGeo() {
  return {
    city: '',
    country: { code: '', name: '' },
    subdivision: { code: '', name: '' },
    latitude: 0,
    longitude: 0,
    timezone: 'UTC',
    postalCode: '',
  }
}

function decodeGeo(header) {
  const geo = defaultGeo()
  if (header) {
    try {
      const parsed = JSON.parse(Buffer.from(header, 'base64').toString('utf8'))
      if (parsed !== null && typeof parsed === 'object') Object.assign(geo, parsed)
    } catch {}
  }
  return geo
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const COOKIE_VALUE = /^("?)[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*\1$/
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'

// Cookies is context.cookies: it reads the request's Cookie header and
// collects Set-Cookie lines for the response (Deno std's cookie format, as
// Netlify uses).
class Cookies {
  #header
  #jar = null
  #out = [] // Set-Cookie values

  constructor(header) {
    this.#header = header
  }

  // collected returns the Set-Cookie values of c; a static method, so that
  // handlers see only get, set and delete.
  static collected(c) {
    return c.#out
  }

  get(input) {
    const name = typeof input === 'string' ? input : input?.name
    if (this.#jar === null) {
      this.#jar = new Map()
      if (this.#header) {
        for (const part of this.#header.split(';')) {
          const eq = part.indexOf('=')
          if (eq === -1) continue
          const key = part.slice(0, eq).trim()
          if (key !== '' && !this.#jar.has(key)) this.#jar.set(key, part.slice(eq + 1).trim())
        }
      }
    }
    return this.#jar.get(name)
  }

  set(input, value) {
    const c = typeof input === 'string' ? { name: input, value } : { ...input }
    c.name = String(c.name ?? '')
    c.value = c.value === undefined || c.value === null ? '' : String(c.value)
    if (!COOKIE_NAME.test(c.name)) throw new TypeError(`Invalid cookie name: "${c.name}".`)
    if (!COOKIE_VALUE.test(c.value)) throw new TypeError(`Invalid cookie value: "${c.value}".`)
    if (c.name.startsWith('__Secure')) c.secure = true
    if (c.name.startsWith('__Host')) {
      c.path = '/'
      c.secure = true
      delete c.domain
    }
    const parts = [`${c.name}=${c.value}`]
    if (c.secure) parts.push('Secure')
    if (c.httpOnly) parts.push('HttpOnly')
    if (typeof c.maxAge === 'number' && Number.isInteger(c.maxAge)) {
      if (c.maxAge < 0) throw new RangeError('Max-Age must be an integer superior or equal to 0')
      parts.push(`Max-Age=${c.maxAge}`)
    }
    if (c.domain) parts.push(`Domain=${c.domain}`)
    if (c.sameSite) parts.push(`SameSite=${c.sameSite}`)
    if (c.path) parts.push(`Path=${c.path}`)
    if (c.expires) {
      const d = typeof c.expires === 'number' ? new Date(c.expires) : c.expires
      parts.push(`Expires=${d instanceof Date ? d.toUTCString() : String(d)}`)
    }
    this.#out.push(parts.join('; '))
  }

  delete(input) {
    const o = typeof input === 'string' ? { name: input } : input
    const parts = [`${o.name}=`]
    if (o.domain) parts.push(`Domain=${o.domain}`)
    parts.push(`Path=${o.path || '/'}`)
    parts.push(`Expires=${EPOCH}`)
    this.#out.push(parts.join('; '))
  }
}

function notImplementedNext() {
  throw new Error('context.next is not implemented for serverless functions')
}

function contextJSON(value, init) {
  return Response.json(value, init)
}

function contextLog(...args) {
  console.log(...args)
}

// Context is the v2 handler's second argument. The costly parts (geo,
// url, cookies) are computed on first use: most handlers never touch them.
class Context {
  constructor(inv, req, event, params) {
    this._inv = inv
    this._req = req
    this._geo = undefined
    this._url = undefined
    this.account = { id: requestHeader(req, 'x-nf-account-id') ?? '' }
    this.deploy = { context: 'dev', id: '0', published: false }
    this.flags = {}
    this.ip = requestHeader(req, 'x-nf-client-connection-ip') ?? ''
    this.json = contextJSON
    this.log = contextLog
    this.next = notImplementedNext
    this.params = params !== null && typeof params === 'object' ? params : {}
    this.path = event.route
    this.requestId = requestHeader(req, 'x-nf-request-id') || inv.id
    this.server = { region: REGION }
    this.site = { id: env.SITE_ID ?? '', name: env.SITE_NAME ?? '', url: env.URL }
    this.waitUntil = (promise) => {
      inv.waiting++
      Promise.resolve(promise).then(
        () => waitSettled(inv),
        (err) => {
          console.error('context.waitUntil promise rejected:', err)
          waitSettled(inv)
        },
      )
    }
  }

  get cookies() {
    if (this._inv.cookies === null) this._inv.cookies = new Cookies(requestHeader(this._req, 'cookie'))
    return this._inv.cookies
  }

  get geo() {
    if (this._geo === undefined) this._geo = decodeGeo(requestHeader(this._req, 'x-nf-geo'))
    return this._geo
  }

  get url() {
    if (this._url === undefined) this._url = new URL(this._req.url)
    return this._url
  }

  rewrite(target) {
    return fetch(new URL(target, this.url))
  }

  toJSON() {
    const { _inv, _req, _geo, _url, ...rest } = this
    return { ...rest, cookies: this.cookies, geo: this.geo, url: this.url }
  }
}

// setBlobsContext gives a v2 invocation its Netlify Blobs context as
// Netlify's own bootstrap does: NETLIFY_BLOBS_CONTEXT rebuilt from
// event.blobs and the x-nf-site-id and x-nf-deploy-id headers, so
// @netlify/blobs' getStore() works with no options. (v1 functions call
// connectLambda(event) instead and get no NETLIFY_BLOBS_CONTEXT, as in
// production.) The value is kept while the inputs do not change.
let blobsInputs = [null, null, null] // raw, site, deploy: compared one by one, no concatenation per request
let blobsContext = null
function setBlobsContext(event) {
  const raw = event.blobs
  if (typeof raw !== 'string' || raw === '') return
  const h = event.headers ?? {}
  const site = h['x-nf-site-id'] ?? null
  const deploy = h['x-nf-deploy-id'] ?? null
  if (raw !== blobsInputs[0] || site !== blobsInputs[1] || deploy !== blobsInputs[2]) {
    let b
    try {
      b = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'))
    } catch {
      return
    }
    const ctx = {
      edgeURL: b.url,
      uncachedEdgeURL: b.url_uncached,
      token: b.token,
      siteID: site,
      deployID: deploy,
      primaryRegion: b.primary_region,
    }
    blobsContext = Buffer.from(JSON.stringify(ctx)).toString('base64')
    blobsInputs = [raw, site, deploy]
  }
  process.env.NETLIFY_BLOBS_CONTEXT = blobsContext
}

function invokeV2(handler, msg) {
  const inv = new Invocation(msg.id)
  let ctx, ret
  try {
    const event = msg.event ?? {}
    setBlobsContext(event)
    const req = v2Request(inv, event)
    ctx = new Context(inv, req, event, msg.params)
    current = ctx
    ret = inRequestStore(ctx, () => handler(req, ctx))
  } catch (err) {
    fail(inv, err)
    return
  }
  try {
    if (isThenable(ret)) {
      ret.then(
        (res) => respondV2(inv, res),
        (err) => fail(inv, err),
      )
      return
    }
  } catch (err) {
    fail(inv, err)
    return
  }
  respondV2(inv, ret)
}

function waitSettled(inv) {
  if (--inv.waiting === 0 && inv.resultSent && inv.announced) sendIdle(inv)
}

function isResponse(v) {
  // A plain Response (undici's own, as bodySource knows it) is one without
  // reading its headers, which would fill a bare Response's Headers slot.
  if (v !== null && typeof v === 'object' && bodyState !== undefined && bodyState !== null && Object.getPrototypeOf(v) === PlainResponse.prototype && typeof v[bodyState] === 'object') return true
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.status === 'number' &&
    v.headers !== null &&
    typeof v.headers === 'object' &&
    typeof v.arrayBuffer === 'function'
  )
}

// notAResponse is the error for a v2 handler that returned something
// other than a Response or nothing; it names the function, the type and
// the fix.
function notAResponse(value) {
  let what
  if (value === null) what = 'null'
  else if (Array.isArray(value)) what = 'an array'
  else if (typeof value === 'object') {
    what = 'statusCode' in value ? 'a Lambda-style object {statusCode, body}' : 'an object that is not a Response'
  } else what = (/^[aeiou]/.test(typeof value) ? 'an ' : 'a ') + typeof value
  let hint = 'return a Response (for example new Response(body, { status: 200 })), or nothing for a 204'
  if (value !== null && typeof value === 'object' && 'statusCode' in value) {
    hint = 'return new Response(body, { status: statusCode, headers }) instead, or export the function as `handler` to keep the Lambda-compatible shape'
  }
  const err = new TypeError(`Function ${FUNCTION_NAME} returned ${what}: a Netlify Functions 2.0 handler (export default) must return a Response or nothing; ${hint}`)
  err.stack = `TypeError: ${err.message}`
  return err
}

const NOT_LATIN1 = /[^\u0000-\u00ff]/

// respondV2 maps what a v2 handler returned to the v1 response shape.
function respondV2(inv, res) {
  if (inv.settled) return
  const setCookies = inv.cookies === null ? [] : Cookies.collected(inv.cookies)
  if (!isResponse(res)) {
    if (res !== undefined) {
      // Netlify answers 500 here: a handler that returns, say, a v1-style
      // {statusCode, body} object has a bug that a 204 would hide.
      fail(inv, notAResponse(res))
      return
    }
    const multiValueHeaders = {}
    if (setCookies.length > 0) multiValueHeaders['set-cookie'] = setCookies
    succeedV2(inv, 204, multiValueHeaders, '', false)
    return
  }
  let multiValueHeaders, body
  try {
    const whole = bodySource(res)
    multiValueHeaders = listedHeaders(res, setCookies) ?? responseHeaders(res.headers, setCookies)
    if (typeof multiValueHeaders !== 'string') {
      if (whole !== undefined) {
        succeedBody(inv, res.status, multiValueHeaders, whole)
        return
      }
      const rs = res.body
      if (rs !== null && typeof rs === 'object' && typeof rs.getReader === 'function') {
        probeBody(inv, res.status, multiValueHeaders, rs.getReader())
        return
      }
      body = res.arrayBuffer()
    }
  } catch (err) {
    fail(inv, err)
    return
  }
  if (typeof multiValueHeaders === 'string') {
    // Production answers a header it cannot send with a plain 500.
    succeedV2(inv, 500, { 'content-type': ['text/plain'] }, multiValueHeaders, false)
    return
  }
  Promise.resolve(body).then(
    (ab) => succeedBody(inv, res.status, multiValueHeaders, Buffer.from(ab)),
    (err) => fail(inv, err),
  )
}

// The fast path for a Response's body. Reading a body through its stream
// (getReader, read, a turn of the event loop to see whether it waits) runs
// a few hundred microseconds of undici's stream code per request in a
// thread whose JIT is still cold. Node's Response (undici) keeps what it
// was built from, a string or bytes, in its internal state, as
// state.body.source; when that is there and the body is untouched, it is
// the whole body. The internal symbol is found once, by probing a known
// Response; when the probe fails (another undici, a polyfilled global), or
// a Response is not a plain one, bodies go through the stream as before.
let bodyState // undefined: not probed yet; null: no fast path
let PlainResponse = null // the Response the probe ran on

// probeBodyState returns the symbol under which Response keeps its state,
// or null. It checks the whole shape the fast path relies on: a string
// source, a bytes source, and no body for a null one.
function probeBodyState() {
  try {
    const R = globalThis.Response
    const text = new R('probe')
    const bytes = new R(new Uint8Array([1, 2]))
    const none = new R(null)
    for (const sym of Object.getOwnPropertySymbols(text)) {
      const st = text[sym]
      if (st === null || typeof st !== 'object' || !('body' in st) || st.body?.source !== 'probe') continue
      const b = bytes[sym]?.body?.source
      if (!(b instanceof Uint8Array) || b.length !== 2 || b[1] !== 2) continue
      if (none[sym]?.body != null) continue
      PlainResponse = R
      return sym
    }
  } catch {}
  return null
}

const EMPTY = Buffer.alloc(0)

// bodySource returns the whole body of res when it can be read without its
// stream: a null body, or an untouched string or bytes source (a string
// stands for its UTF-8 bytes). Otherwise
// (a stream, a Blob or FormData body, a body already read or locked, a
// subclass or a polyfill) it returns undefined and the caller reads the
// stream.
function bodySource(res) {
  if (bodyState === undefined) bodyState = probeBodyState()
  if (bodyState === null || Object.getPrototypeOf(res) !== PlainResponse.prototype) return undefined
  const st = res[bodyState]
  if (st === null || typeof st !== 'object') return undefined
  const body = st.body
  if (body === null || body === undefined) return EMPTY
  if (body instanceof LazyBody && body.made === null) return body.source
  const stream = body.stream
  if (stream !== null && stream !== undefined && (stream.locked || res.bodyUsed)) return undefined
  const src = body.source
  if (typeof src === 'string') return src
  if (src instanceof Uint8Array) return Buffer.from(src.buffer, src.byteOffset, src.byteLength)
  return undefined
}

// succeedBody answers with a whole body (a string, which stands for its
// UTF-8 bytes, or bytes): text when the content type is textual and the
// bytes are UTF-8, base64 otherwise. The strings are well-formed (undici
// converts a body string to a USVString, lone surrogates to U+FFFD, and
// JSON.stringify escapes them), so a string is its own UTF-8 text.
function succeedBody(inv, status, multiValueHeaders, body) {
  const contentType = multiValueHeaders['content-type']
  const textual = contentType !== undefined && isTextual(contentType[0])
  let buf = body
  if (typeof body === 'string') {
    if (textual && body.length > 0) {
      succeedV2(inv, status, multiValueHeaders, body, false)
      return
    }
    buf = Buffer.from(body)
  }
  if (buf.length === 0) succeedV2(inv, status, multiValueHeaders, '', false)
  else if (textual && isUtf8(buf)) succeedV2(inv, status, multiValueHeaders, buf.toString('utf8'), false)
  else succeedV2(inv, status, multiValueHeaders, buf.toString('base64'), true)
}

// responseHeaders returns the headers as multiValueHeaders, or a message when
// one of them cannot be sent over HTTP.
function responseHeaders(headers, setCookies) {
  const mvh = {}
  let fromGetter = null
  if (typeof headers.getSetCookie === 'function') fromGetter = headers.getSetCookie()
  if (typeof headers[Symbol.iterator] === 'function') {
    for (const [rawName, value] of headers) {
      const name = rawName.toLowerCase()
      if (name === 'set-cookie' && fromGetter !== null) continue
      const v = String(value)
      if (NOT_LATIN1.test(v)) return notLatin1Header(name)
      const list = mvh[name]
      if (list === undefined) mvh[name] = [v]
      else list.push(v)
    }
  }
  if (fromGetter !== null && fromGetter.length > 0) mvh['set-cookie'] = Array.from(fromGetter, String)
  if (setCookies.length > 0) {
    const list = mvh['set-cookie']
    if (list === undefined) mvh['set-cookie'] = setCookies
    else list.push(...setCookies)
  }
  return mvh
}

// notLatin1Header is the answer's message for a header value HTTP cannot carry.
function notLatin1Header(name) {
  return `Function returned a response whose "${name}" header contains characters outside ISO-8859-1 (Latin-1); HTTP header values must be Latin-1. Encode the value (for example with encodeURIComponent) before setting it.`
}

// The fast path for a Response's headers: read from its header list's Map
// (lower-case name → {name, value}, set-cookie values kept apart in
// list.cookies) instead of through the Headers iterator, which sorts them
// and allocates an iterator and a pair per header. The Map's symbol is
// found once, by probing, and the result checked against responseHeaders;
// otherwise, or for a Response that is not a plain one, the Headers API
// is used.
let headersMapState // undefined: not probed yet; null: no fast path

// probeHeadersMap returns the symbol under which a header list keeps its
// Map, or null.
function probeHeadersMap() {
  try {
    const res = new PlainResponse('x', { headers: [['X-B', '2'], ['a', ' 1 '], ['x-b', '3'], ['Set-Cookie', 'c=1'], ['set-cookie', 'd=2'], ['x-gone', '1']] })
    res.headers.delete('x-gone')
    const list = res[bodyState].headersList
    for (const sym of Object.getOwnPropertySymbols(list)) {
      if (!(list[sym] instanceof Map)) continue
      const sorted = (mvh) => JSON.stringify(Object.entries(mvh).sort())
      const want = sorted(responseHeaders(res.headers, ['e=3']))
      headersMapState = sym
      if (sorted(listedHeaders(res, ['e=3'])) === want && sorted(listedHeaders(new PlainResponse(null), [])) === '[]') return sym
    }
  } catch {}
  return null
}

// listedHeaders is responseHeaders for a plain Response, read from its
// header list, or undefined when there is no fast path for it.
function listedHeaders(res, setCookies) {
  if (headersMapState === undefined) headersMapState = probeHeadersMap()
  if (headersMapState === null || Object.getPrototypeOf(res) !== PlainResponse.prototype) return undefined
  const list = res[bodyState].headersList
  const map = list[headersMapState]
  const mvh = {}
  let cookies = false
  for (const name of map.keys()) {
    if (name === 'set-cookie') {
      cookies = true
      continue
    }
    const v = map.get(name).value
    if (NOT_LATIN1.test(v)) return notLatin1Header(name)
    mvh[name] = [v]
  }
  if (cookies && list.cookies !== null && list.cookies.length > 0) mvh['set-cookie'] = Array.from(list.cookies, String)
  if (setCookies.length > 0) {
    const have = mvh['set-cookie']
    if (have === undefined) mvh['set-cookie'] = setCookies
    else have.push(...setCookies)
  }
  return mvh
}

function succeedV2(inv, statusCode, multiValueHeaders, body, isBase64Encoded) {
  if (inv.settled) return
  inv.settled = true
  const response = JSON.stringify({ statusCode, multiValueHeaders, body, isBase64Encoded })
  finish(inv, '{"type":"result","id":' + inv.idJSON + ',"response":' + response)
}

// ---------------------------------------------------------------------------
// Streamed responses (PROTOCOL.md, "Streamed responses"): a head message,
// chunk messages of base64 bytes, an end message. bgfn gives credit as it
// passes chunks to the client, so a slow client holds the function's
// stream back instead of filling bgfn's memory, or the pipe every instance
// of a host shares.

const STREAM_WINDOW = 1 << 20 // bytes of chunks bgfn has not taken yet
const CHUNK_MAX = 32 << 10 // a chunk line (base64) stays under bgfn's 64 KiB read buffer
const CHUNK_COST = 256 // what a chunk costs on top of its bytes, so tiny chunks are bounded too
const TICK = {}

let liveStream = null // the StreamOut of the running invocation

// StreamOut sends one invocation's streamed body.
class StreamOut {
  constructor(inv) {
    this.inv = inv
    this.credit = STREAM_WINDOW
    this.wake = null
    this.aborted = false
    this.ended = false
    this.headSent = false
    this.onAbort = null
    inv.settled = true // no result message: the head answers
    liveStream = this
  }

  head(statusCode, multiValueHeaders) {
    if (this.headSent) return
    this.headSent = true
    out.write('{"type":"head","id":' + this.inv.idJSON + ',"response":' + JSON.stringify({ statusCode, multiValueHeaders }) + '}\n')
  }

  // headRaw sends a v1 head as the handler gave it (bgfn validates it).
  headRaw(meta) {
    if (this.headSent) return
    this.headSent = true
    let json
    try {
      json = JSON.stringify(meta)
    } catch {}
    if (typeof json !== 'string' || json[0] !== '{') json = '{"statusCode":200,"headers":{"content-type":"application/octet-stream"}}'
    out.write('{"type":"head","id":' + this.inv.idJSON + ',"response":' + json + '}\n')
  }

  // send writes bytes as chunks, each once bgfn has credit for it; it
  // resolves false once the stream was aborted.
  async send(bytes) {
    for (let off = 0; off < bytes.length && !this.aborted; off += CHUNK_MAX) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + CHUNK_MAX))
      const cost = part.length + CHUNK_COST
      while (this.credit < cost && !this.aborted) await new Promise((resolve) => (this.wake = resolve))
      if (this.aborted) break
      this.credit -= cost
      const b64 = Buffer.from(part.buffer, part.byteOffset, part.length).toString('base64')
      out.write('{"type":"chunk","id":' + this.inv.idJSON + ',"d":"' + b64 + '"}\n')
    }
    return !this.aborted
  }

  grant(n) {
    this.credit += n
    this.poke()
  }

  abort() {
    if (this.aborted || this.ended) return
    this.aborted = true
    this.poke()
    try {
      this.onAbort?.()
    } catch {}
  }

  poke() {
    const w = this.wake
    this.wake = null
    if (w !== null) w()
  }

  // end sends the end message: err when the body failed half way.
  end(err) {
    if (this.ended) return
    this.ended = true
    if (liveStream === this) liveStream = null
    let head = '{"type":"end","id":' + this.inv.idJSON
    if (err !== undefined && !this.aborted) head += ',"error":' + JSON.stringify(errorInfo(err))
    if (this.aborted) head += ',"aborted":true'
    finish(this.inv, head)
  }
}

// streamControl applies bgfn's credit and abort messages to the stream
// they name.
function streamControl(msg) {
  const s = liveStream
  if (s === null || s.inv.id !== msg.id) return
  if (msg.type === 'credit') s.grant(Number(msg.n) || 0)
  else s.abort()
}

// toBytes turns a chunk of a body into bytes, as Lambda's response stream
// takes them: bytes, or a string as UTF-8.
function toBytes(value) {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return Buffer.from(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  throw new TypeError('a streamed response body gave a chunk that is not a Uint8Array or a string: ' + safeString(value))
}

// raceTick reads the next chunk if the stream has one ready at once: it
// resolves with the read's result, or with {tick, read} when the read is
// still pending after the current turn of the event loop.
function raceTick(read) {
  return new Promise((resolve, reject) => {
    let settled = false
    const t = setImmediate(() => {
      if (settled) return
      settled = true
      resolve({ tick: TICK, read })
    })
    read.then(
      (r) => {
        if (settled) return
        settled = true
        clearImmediate(t)
        resolve(r)
      },
      (err) => {
        if (settled) return
        settled = true
        clearImmediate(t)
        reject(err)
      },
    )
  })
}

const PROBE_MAX = 1 << 20

// probeBody reads a v2 body that is ready at once (a string, a buffer,
// anything enqueued up front) whole, and answers with it as before;
// a body that makes the reader wait, or passes 1 MiB, is streamed.
function probeBody(inv, status, multiValueHeaders, reader) {
  const parts = []
  let size = 0
  const step = () => {
    raceTick(reader.read()).then(
      (r) => {
        if (inv.settled) return
        if (r.tick === TICK) {
          pumpV2(inv, status, multiValueHeaders, reader, parts, r.read)
          return
        }
        if (r.done) {
          succeedBody(inv, status, multiValueHeaders, parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].byteLength) : Buffer.concat(parts))
          return
        }
        let bytes
        try {
          bytes = toBytes(r.value)
        } catch (err) {
          fail(inv, err)
          return
        }
        parts.push(bytes)
        size += bytes.length
        if (size > PROBE_MAX) pumpV2(inv, status, multiValueHeaders, reader, parts, null)
        else step()
      },
      (err) => fail(inv, err),
    )
  }
  step()
}

// pumpV2 streams a v2 body: the head, the parts already read, then each
// chunk as the body gives it. A client that goes away cancels the body
// and aborts the request's signal.
async function pumpV2(inv, status, multiValueHeaders, reader, parts, read) {
  const s = new StreamOut(inv)
  s.onAbort = () => {
    const reason = new DOMException('The client closed the connection', 'AbortError')
    inv.abortReason = reason
    try {
      inv.controller?.abort(reason)
    } catch {}
    reader.cancel(reason).catch(() => {})
  }
  s.head(status, multiValueHeaders)
  try {
    for (const p of parts) if (!(await s.send(p))) break
    while (!s.aborted) {
      const r = await (read ?? reader.read())
      read = null
      if (r.done || s.aborted) break
      if (!(await s.send(toBytes(r.value)))) break
    }
  } catch (err) {
    s.end(err)
    return
  }
  s.end()
}

// requestSignal gives req a signal that aborts when the client goes away
// during a streamed response. It is made on first use: a Request built
// with a signal costs several times one without (undici follows it), on
// every invocation, and most handlers never look.
function requestSignal(inv, req) {
  Object.defineProperty(req, 'signal', {
    configurable: true,
    enumerable: true,
    get() {
      if (inv.controller === null) {
        inv.controller = new AbortController()
        if (inv.abortReason !== undefined) inv.controller.abort(inv.abortReason)
      }
      return inv.controller.signal
    },
  })
}

// --- the lazy Request ---------------------------------------------------------
//
// Building a v2 handler's Request with undici's constructor (WebIDL
// conversions of the init, two internal request records, a URL, an
// AbortController, a Headers) is most of what a v2 invocation costs in a
// thread whose JIT is still cold: ~150 µs, against ~2 µs for what follows.
// Many handlers never look at their Request, and those that do mostly read
// a header or the URL. So the Request of a bodiless event is an object of
// Request.prototype whose internal slots (found once, by probing a real
// Request) are accessors: the first use of any of them (any getter, method,
// clone(), new Request(req), fetch(req)) fills them in directly, without the
// constructor: a copy of a template Request's record with this event's
// method, parsed URL and header list, and a Headers object linked to that
// list (borrowed from a new Response, the one public way to get one). The
// signal is made on first use, as requestSignal does. When the probe or its
// check against a constructed Request fails (another undici, a polyfilled
// global), or an event does not fit (a body, an unusual method, a URL that is
// not plainly http(s) or carries credentials), the Request is constructed.
let lazyShape // undefined: not probed yet; null: no lazy Request
const PENDING = Symbol('bgfn.pendingRequest')
const LAZY_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])
// An http(s) URL whose authority has no user info: the constructor would
// refuse credentials, and a lazy Request must not fail later than it.
const PLAIN_URL = /^https?:\/\/[^/?#@\\]*(?:[/?#\\]|$)/
let plainURL = '' // the last URL that passed: most invocations repeat it

// probeFastPaths runs the probes of the v2 fast paths (the lazy Request,
// Response.json, a Response's body and headers), tens of milliseconds in a
// cold thread, when the fetch classes are warmed up: ahead of the first
// invocation, which would otherwise pay for them while its own timers run.
function probeFastPaths() {
  if (lazyShape === undefined) lazyShape = probeLazyRequest()
  installResponseJSON()
  if (bodyState === undefined) bodyState = probeBodyState()
  if (headersMapState === undefined) headersMapState = probeHeadersMap()
}

// v2Request returns the Request of a v2 invocation, with its signal: the
// lazy one when it can, else a constructed one.
function v2Request(inv, event) {
  if (jsonShape === undefined) installResponseJSON()
  const req = lazyRequestOf(inv, event)
  if (req !== null) return req
  const built = buildRequest(event)
  requestSignal(inv, built)
  return built
}

// lazyRequestOf returns the lazy Request of event, or null when the event
// does not fit or there is no lazy Request on this Node.
function lazyRequestOf(inv, event) {
  if (lazyShape === undefined) lazyShape = probeLazyRequest()
  if (lazyShape === null) return null
  const method = typeof event.httpMethod === 'string' && event.httpMethod !== '' ? event.httpMethod.toUpperCase() : 'GET'
  if (!LAZY_METHODS.has(method)) return null
  if (method !== 'GET' && method !== 'HEAD' && typeof event.body === 'string') return null
  let url = event.rawUrl
  if (typeof url !== 'string' || url === '') {
    url = 'http://localhost' + (event.path || '/') + (event.rawQuery ? '?' + event.rawQuery : '')
  }
  if (url !== plainURL) {
    if (!PLAIN_URL.test(url) || !URL.canParse(url)) return null
    plainURL = url
  }
  const pairs = headerPairs(event) ?? []
  return lazyRequest(lazyShape, { shape: lazyShape, url, method, pairs, plain: plainPairs(pairs), inv, filled: false })
}

// plainPairs reports whether every header is plainly valid (PLAIN_NAME,
// PLAIN_VALUE): then the Headers API would keep each one as it is.
function plainPairs(pairs) {
  for (let i = 0; i < pairs.length; i++) {
    if (!PLAIN_NAME.test(pairs[i][0]) || !PLAIN_VALUE.test(pairs[i][1])) return false
  }
  return true
}

// The accessors of a lazy Request's slots: each fills the Request in, then
// reads or writes the plain value that took its place.
function fillingSlot(key) {
  return {
    get() {
      fillRequest(this)
      return this[this[PENDING].shape[key]]
    },
    set(v) {
      fillRequest(this)
      this[this[PENDING].shape[key]] = v
    },
    enumerable: true,
    configurable: true,
  }
}
const lazyState = fillingSlot('kState')
const lazyHeaders = fillingSlot('kHeaders')
const lazySignal = {
  get() {
    const p = this[PENDING]
    const inv = p.inv
    if (inv.controller === null) {
      inv.controller = new AbortController()
      if (inv.abortReason !== undefined) inv.controller.abort(inv.abortReason)
    }
    slot(this, p.shape.kSignal, inv.controller.signal)
    return inv.controller.signal
  },
  set(v) {
    slot(this, this[PENDING].shape.kSignal, v)
  },
  enumerable: true,
  configurable: true,
}

// slot makes obj[sym] the plain property an assignment in a constructor makes.
function slot(obj, sym, value) {
  Object.defineProperty(obj, sym, { value, writable: true, enumerable: true, configurable: true })
}

// lazyRequest makes the Request of p ({shape, url, method, pairs, plain,
// inv, filled}) with its slots in the order the constructor adds them.
function lazyRequest(shape, p) {
  const req = Object.create(shape.Request.prototype)
  if (shape.markUncloneable !== undefined) shape.markUncloneable(req)
  for (let i = 0; i < shape.others.length; i++) req[shape.others[i]] = undefined
  Object.defineProperty(req, shape.kState, lazyState)
  Object.defineProperty(req, shape.kSignal, lazySignal)
  Object.defineProperty(req, shape.kHeaders, lazyHeaders)
  req[PENDING] = p
  return req
}

// fillRequest gives a lazy Request the state and headers the constructor
// would have given it: the template's record with the event's method, URL,
// header list and no body, and a Headers on that list.
function fillRequest(req) {
  const p = req[PENDING]
  if (p.filled) return
  p.filled = true
  const shape = p.shape
  const state = { ...shape.state }
  const url = new URL(p.url)
  state.method = p.method
  state.url = url
  state.urlList = [url]
  state.body = null
  const res = new shape.Response()
  const headers = res[shape.resHeaders]
  const list = res[shape.resState].headersList
  const pairs = p.pairs
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]
    if (p.plain) list.append(name, value, true)
    else appendHeader(headers, name, value)
  }
  state.headersList = list
  slot(req, shape.kState, state)
  slot(req, shape.kHeaders, headers)
}

// requestHeader is req.headers.get(name) for the bootstrap's own reads
// (Context, identity): on a lazy Request whose headers are all plain, it
// reads the pairs, as Headers would join them, and leaves the Request lazy.
function requestHeader(req, name) {
  const p = req[PENDING]
  if (p === undefined || p.filled || !p.plain) return req.headers.get(name)
  let v = null
  const pairs = p.pairs
  for (let i = 0; i < pairs.length; i++) {
    if (pairs[i][0] !== name) continue
    v = v === null ? pairs[i][1] : v + (name === 'cookie' ? '; ' : ', ') + pairs[i][1]
  }
  return v
}

// probeLazyRequest finds a Request's slots and a Response's, and checks a
// lazy Request against a constructed one; it returns the shape
// lazyRequest needs, or null.
function probeLazyRequest() {
  try {
    const R = globalThis.Request
    const Res = globalThis.Response
    if (typeof URL.canParse !== 'function') return null
    const t = new R('http://localhost/', { method: 'GET' })
    if (Object.getOwnPropertyNames(t).length !== 0 || Object.getPrototypeOf(t) !== R.prototype) return null
    const shape = { Request: R, Response: Res, kState: null, kHeaders: null, kSignal: null, others: [], state: null, resState: null, resHeaders: null, markUncloneable: workerThreads.markAsUncloneable }
    for (const sym of Object.getOwnPropertySymbols(t)) {
      const v = t[sym]
      if (v instanceof Headers) shape.kHeaders = sym
      else if (v instanceof AbortSignal) shape.kSignal = sym
      else if (v !== null && typeof v === 'object' && Array.isArray(v.urlList) && typeof v.headersList?.append === 'function' && v.body === null) shape.kState = sym
      else if (v === undefined) shape.others.push(sym)
      else return null
    }
    if (shape.kState === null || shape.kHeaders === null || shape.kSignal === null) return null
    shape.state = t[shape.kState]
    const r = new Res()
    for (const sym of Object.getOwnPropertySymbols(r)) {
      const v = r[sym]
      if (v instanceof Headers) shape.resHeaders = sym
      else if (v !== null && typeof v === 'object' && v.headersList !== null && typeof v.headersList?.append === 'function') shape.resState = sym
    }
    if (shape.resHeaders === null || shape.resState === null) return null
    r[shape.resState].headersList.append('x-probe', '1', true)
    if (r.headers.get('x-probe') !== '1') return null
    return sameRequests(shape) ? shape : null
  } catch {
    return null
  }
}

const PROBE_PAIRS = [
  ['host', 'localhost:1'],
  ['cookie', 'a=1'],
  ['x-m', '1'],
  ['cookie', 'b=2'],
  ['x-m', '2'],
  ['x-empty', ''],
]

// sameRequests checks lazy Requests against constructed ones through the
// public API: the bootstrap's header reads while lazy, then what handlers
// see (and, after, their bodies: checkLazyBodies).
function sameRequests(shape) {
  const inv = { controller: null, abortReason: undefined }
  // One case: the probe runs in every new thread (the tests cover the rest).
  for (const [method, url] of [['GET', 'http://localhost:1/p/a?q=1&r=%20']]) {
    const real = new shape.Request(url, { method, headers: PROBE_PAIRS })
    const p = { shape, url, method, pairs: PROBE_PAIRS, plain: plainPairs(PROBE_PAIRS), inv, filled: false }
    const lazy = lazyRequest(shape, p)
    if (!p.plain || requestHeader(lazy, 'cookie') !== real.headers.get('cookie') || requestHeader(lazy, 'x-m') !== real.headers.get('x-m') || requestHeader(lazy, 'x-none') !== null) return false
    if (p.filled) return false
    const want = requestView(shape, real)
    if (requestView(shape, lazy) !== want) return false
    if (lazy.signal !== inv.controller.signal) return false
    inv.controller = null
    checkLazyBodies(shape, url, method)
  }
  return true
}

// requestView is what a handler can read of req without its body, as JSON.
function requestView(shape, req) {
  return JSON.stringify([
    req instanceof shape.Request,
    Object.getPrototypeOf(req) === shape.Request.prototype,
    Object.prototype.toString.call(req),
    req.url,
    req.method,
    [...req.headers],
    req.headers.get('cookie'),
    req.headers.getSetCookie(),
    req.body,
    req.bodyUsed,
    req.signal instanceof AbortSignal,
    req.signal.aborted,
    req.mode,
    req.referrer,
  ])
}

// checkLazyBodies compares the body readers of a lazy and a constructed
// Request (they settle later); a difference turns lazy Requests off.
function checkLazyBodies(shape, url, method) {
  const outcome = (promise) =>
    promise.then(
      (v) => JSON.stringify(v instanceof ArrayBuffer ? ['ab', v.byteLength] : ['v', v]),
      (err) => JSON.stringify(['err', err?.name]),
    )
  const view = (req) => Promise.all([outcome(req.clone().text()), outcome(req.arrayBuffer()), Promise.resolve(req.bodyUsed)])
  const real = new shape.Request(url, { method, headers: PROBE_PAIRS })
  const lazy = lazyRequest(shape, { shape, url, method, pairs: PROBE_PAIRS, plain: true, inv: { controller: null, abortReason: undefined }, filled: false })
  Promise.all([view(real), view(lazy)]).then(
    ([a, b]) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) lazyShape = null
    },
    () => {
      lazyShape = null
    },
  )
}

// --- Response.json without a body stream ------------------------------------
//
// undici's Response.json builds a ReadableStream for the body at once (a
// byte stream and its controller, each made transferable: a native object
// per stream), ~40% of a v2 hello's time in the worker, though the
// bootstrap reads the bytes straight from the body record (bodySource) and
// most responses are never read as a stream. The Response.json installed
// here makes the same Response: new Response(null, init) (the init checked
// and applied by undici), the JSON text as the body's source, the
// content-type undici adds, and a body record whose stream is made (as
// undici makes it) the first time anything reads it: response.body,
// bodyUsed, text(), clone(). Installed once, after a check against the
// original; on any difference, or an init undici would refuse, the original
// runs.
let jsonShape // undefined: not installed yet; null: not installed
const NULL_BODY_STATUS = new Set([101, 204, 205, 304])

// LazyBody is undici's body record {stream, source, length}, whose stream
// is made on first use. Its source is the JSON text (undici's Response.json
// keeps its UTF-8 bytes instead; the stream gives the same bytes), which
// the bootstrap answers with as it is.
class LazyBody {
  constructor(shape, source) {
    this.source = source
    this.length = null
    this.made = null
    this.shape = shape
  }

  get stream() {
    if (this.made === null) this.made = new this.shape.Response(this.source)[this.shape.kState].body.stream
    return this.made
  }

  set stream(v) {
    this.made = v
  }
}

// installResponseJSON replaces Response.json with fastJSON when the check
// passes.
function installResponseJSON() {
  if (jsonShape !== undefined) return
  jsonShape = null
  try {
    const R = globalThis.Response
    const original = R.json
    // A Response that prints its internal state (Node 18) would show the
    // lazy body in console.log: not there.
    if (typeof original !== 'function' || typeof R.prototype[Symbol.for('nodejs.util.inspect.custom')] !== 'function') return
    if (bodyState === undefined) bodyState = probeBodyState()
    if (bodyState === null || PlainResponse !== R) return
    let shape = bareShape(R, original)
    bareResponse = shape
    const fast = function json(data, init) {
      return fastJSON(shape, arguments.length, data, init)
    }
    if (shape === null || !sameJSON(shape, fast)) {
      // Without the bare path.
      shape = { Response: R, kState: bodyState, original, kHeaders: null }
      if (!sameJSON(shape, fast)) return
    }
    Object.defineProperty(R, 'json', { value: fast, writable: true, enumerable: false, configurable: true })
    jsonShape = shape
    checkJSONBodies(shape, fast)
  } catch {}
}

// fastJSON is Response.json(data, init) with a lazy body stream.
function fastJSON(shape, argc, data, init) {
  if (argc === 0) return shape.original()
  if (init === null) return shape.original(data, init)
  if (shape.kHeaders !== null) {
    const bare = bareInit(init)
    if (bare !== null) {
      const text = JSON.stringify(data)
      if (typeof text !== 'string') throw new TypeError('Value is not JSON serializable')
      return bareJSON(shape, text, bare)
    }
  }
  let res
  try {
    res = new shape.Response(null, init)
  } catch {
    // The original throws the same error, in its own order.
    return shape.original(data, init)
  }
  const text = JSON.stringify(data)
  if (typeof text !== 'string') throw new TypeError('Value is not JSON serializable')
  if (NULL_BODY_STATUS.has(res.status)) throw new TypeError(`Response constructor: Invalid response status code ${res.status}`)
  const state = res[shape.kState]
  state.body = new LazyBody(shape, text)
  if (!state.headersList.contains('content-type', true)) state.headersList.append('content-type', 'application/json', true)
  return res
}

// The bare Response.json: for no init, or an init of a status and a record
// of plainly valid headers (what most handlers pass), the Response is made
// without running undici's constructor at all: an object of
// Response.prototype with the state undici's Response.json gives it (a
// copy of a template's, with the status, a header list and the lazy body)
// and, like the lazy Request, a Headers slot filled on first use with a
// Headers linked to that list (borrowed from a new Response). The
// bootstrap reads the state's header list itself (listedHeaders), so an
// answer that is never looked at costs no Headers at all.

// bareShape probes a Response made by the original Response.json for what
// the bare path needs: its two slots, the template state and the header
// list's class; it returns the shape, or null (then every init goes
// through new Response(null, init)).
function bareShape(R, original) {
  try {
    const t = original(0)
    const syms = Object.getOwnPropertySymbols(t)
    if (syms.length !== 2 || Object.getOwnPropertyNames(t).length !== 0 || Object.getPrototypeOf(t) !== R.prototype) return null
    const kHeaders = syms.find((sym) => t[sym] instanceof Headers)
    const kState = syms.find((sym) => sym !== kHeaders)
    if (kHeaders === undefined || kState !== bodyState) return null
    const template = t[kState]
    if (!Array.isArray(template.urlList) || template.urlList.length !== 0 || typeof template.headersList?.append !== 'function' || template.status !== 200) return null
    return { Response: R, kState, kHeaders, original, template, HeadersList: template.headersList.constructor, markUncloneable: workerThreads.markAsUncloneable }
  } catch {
    return null
  }
}

let bareResponse = null // the shape of the bare path
const BARE_DEFAULT = { status: 200, headers: null }
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

// bareInit returns {status, headers} for an init the bare path applies as
// undici would (no init; or a plain object of data properties: status, an
// integer from 200 to 599 that may have a body, and headers, a plain
// object of plainly valid string values), or null.
function bareInit(init) {
  if (init === undefined) return BARE_DEFAULT
  if (typeof init !== 'object' || Object.getPrototypeOf(init) !== Object.prototype) return null
  let status = 200
  let headers = null
  for (const key in init) {
    const d = Object.getOwnPropertyDescriptor(init, key)
    if (d === undefined || !('value' in d)) return null
    if (key === 'status') {
      if (d.value === undefined) continue
      status = d.value
      if (!Number.isInteger(status) || status < 200 || status > 599 || NULL_BODY_STATUS.has(status)) return null
    } else if (key === 'headers') {
      if (d.value === undefined) continue
      if (!plainRecord(d.value)) return null
      headers = d.value
    } else {
      return null
    }
  }
  return status === 200 && headers === null ? BARE_DEFAULT : { status, headers }
}

// plainRecord reports whether h is a plain object of data properties whose
// names are tokens and whose values are plainly valid header values.
function plainRecord(h) {
  if (h === null || typeof h !== 'object' || Object.getPrototypeOf(h) !== Object.prototype) return false
  for (const name in h) {
    const d = Object.getOwnPropertyDescriptor(h, name)
    if (d === undefined || typeof d.value !== 'string' || !TOKEN.test(name) || !PLAIN_VALUE.test(d.value)) return false
  }
  return Object.getOwnPropertySymbols(h).length === 0
}

// bareJSON makes the Response of Response.json(text's value, init) (init
// as bareInit gives it).
function bareJSON(shape, text, init) {
  const res = Object.create(shape.Response.prototype)
  if (shape.markUncloneable !== undefined) shape.markUncloneable(res)
  const list = new shape.HeadersList()
  const h = init.headers
  if (h !== null) for (const name in h) list.append(name, h[name], false)
  if (!list.contains('content-type', true)) list.append('content-type', 'application/json', true)
  res[shape.kState] = { ...shape.template, status: init.status, headersList: list, urlList: [], body: new LazyBody(shape, text) }
  Object.defineProperty(res, shape.kHeaders, bareHeaders)
  return res
}

// The accessor of a bare Response's Headers slot: the first use gives the
// Response a Headers on a copy of its header list, which takes the list's
// place.
const bareHeaders = {
  get() {
    const shape = bareResponse
    const borrowed = new shape.Response()
    const headers = borrowed[shape.kHeaders]
    const list = borrowed[shape.kState].headersList
    const state = this[shape.kState]
    const own = state.headersList
    for (const { name, value } of own.rawValues()) {
      if (name.toLowerCase() === 'set-cookie') {
        for (const cookie of own.cookies ?? []) list.append(name, cookie, false)
      } else {
        list.append(name, value, false)
      }
    }
    state.headersList = list
    slot(this, shape.kHeaders, headers)
    return headers
  },
  set(v) {
    slot(this, bareResponse.kHeaders, v)
  },
  enumerable: true,
  configurable: true,
}

// JSON_CASES are the calls sameJSON and checkJSONBodies compare.
const JSON_CASES = [
  [{ a: [1, 'é'] }],
  ['s', { status: 201, statusText: 'Made', headers: { 'x-a': '1' } }],
  [[2], { status: 202, headers: { 'X-A': '1', 'x-a': '2', 'Set-Cookie': 'c=1', 'set-cookie': 'd=2', 'Content-Type': 'text/x' } }],
]

// jsonView is what a caller can read of a Response without its body.
function jsonView(res) {
  return JSON.stringify([Object.getPrototypeOf(res) === Response.prototype, res.status, res.statusText, res.type, [...res.headers], res.headers.getSetCookie()])
}

// errorOf is the error name and message fn throws, or null.
function errorOf(fn) {
  try {
    fn()
  } catch (err) {
    return `${err?.name}: ${err?.message}`
  }
  return null
}

// sameJSON compares fast with the original Response.json: what they
// return, before and after the body is touched, and what they throw.
function sameJSON(shape, fast) {
  for (const args of JSON_CASES) {
    const a = shape.original(...args)
    const b = fast(...args)
    const sorted = (mvh) => JSON.stringify(Object.entries(mvh).sort())
    if (sorted(listedHeaders(b, [])) !== sorted(responseHeaders(a.headers, []))) return false
    if (b[shape.kState].body.made !== null || jsonView(a) !== jsonView(b)) return false
  }
  // The errors fastJSON makes itself (the tests cover the rest).
  const throwing = [[undefined], [1, { status: 204 }]]
  for (const args of throwing) {
    const want = errorOf(() => shape.original(...args))
    if (want === null || errorOf(() => fast(...args)) !== want) return false
  }
  return true
}

// checkJSONBodies compares the bodies read every way (they settle later);
// a difference puts the original Response.json back.
function checkJSONBodies(shape, fast) {
  const read = async (make, args) => {
    const res = make(...args)
    const r = res.body.getReader()
    const parts = []
    for (let x = await r.read(); !x.done; x = await r.read()) parts.push(Buffer.from(x.value).toString())
    return JSON.stringify([await make(...args).text(), parts.join(''), res.bodyUsed])
  }
  const all = (make) => Promise.all(JSON_CASES.map((args) => read(make, args).catch((err) => String(err))))
  Promise.all([all(shape.original), all(fast)]).then(
    ([a, b]) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) Object.defineProperty(shape.Response, 'json', { value: shape.original, writable: true, enumerable: false, configurable: true })
    },
    () => Object.defineProperty(shape.Response, 'json', { value: shape.original, writable: true, enumerable: false, configurable: true }),
  )
}

// --- v1 stream() ------------------------------------------------------------

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming')

// installAwsLambda provides Lambda's awslambda global, which stream()
// from @netlify/functions calls when the module loads:
// streamifyResponse(fn) marks fn as a streaming handler, called as
// fn(event, responseStream, context); HttpResponseStream.from(stream,
// {statusCode, headers, multiValueHeaders}) gives the stream its head.
function installAwsLambda() {
  if (globalThis.awslambda !== undefined) return
  const awslambda = {
    streamifyResponse(fn) {
      fn[STREAMING] = 'response'
      return fn
    },
    HttpResponseStream: {
      from(stream, metadata) {
        if (stream instanceof ResponseStream) stream.meta = metadata ?? {}
        return stream
      },
    },
  }
  Object.defineProperty(globalThis, 'awslambda', { value: awslambda, writable: true, configurable: true, enumerable: false })
}

// ResponseStream is the Writable a v1 streaming handler writes its body
// to; each write waits for bgfn's credit, so pipeline() keeps the body's
// pace to the client's.
class ResponseStream extends Writable {
  constructor(out) {
    super({ highWaterMark: 64 << 10 })
    this.out = out
    this.meta = null
  }

  setContentType(type) {
    this.meta ??= { statusCode: 200, headers: {} }
    this.meta.headers = { ...this.meta.headers, 'content-type': type }
  }

  head() {
    this.out.headRaw(this.meta ?? { statusCode: 200, headers: { 'content-type': 'application/octet-stream' } })
  }

  _write(chunk, encoding, cb) {
    this.head()
    let bytes
    try {
      bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : toBytes(chunk)
    } catch (err) {
      cb(err)
      return
    }
    this.out.send(bytes).then((ok) => cb(ok ? null : abortError()), cb)
  }

  _final(cb) {
    this.head()
    cb()
  }
}

function abortError() {
  const err = new Error('The client closed the connection')
  err.code = 'ERR_STREAM_PREMATURE_CLOSE'
  return err
}

// invokeV1Stream runs a handler wrapped in awslambda.streamifyResponse.
// Its answer is the stream: the invocation ends when the handler has
// settled and the stream has finished.
function invokeV1Stream(handler, msg) {
  const inv = new Invocation(msg.id)
  const s = new StreamOut(inv)
  const rs = new ResponseStream(s)
  s.onAbort = () => rs.destroy(abortError())
  let finished = false
  let settled = false
  let failure
  const done = () => {
    if (!finished || !settled) return
    if (failure !== undefined && !s.headSent && !s.aborted) {
      inv.settled = false
      if (liveStream === s) liveStream = null
      s.ended = true
      fail(inv, failure)
      return
    }
    s.head()
    s.end(failure)
  }
  rs.on('finish', () => {
    finished = true
    done()
  })
  rs.on('error', (err) => {
    finished = true
    failure ??= err
    done()
  })
  const settle = (err) => {
    settled = true
    if (err !== undefined) failure ??= err
    if (!rs.writableFinished && !rs.destroyed) {
      // The handler is done but left the stream open: Lambda ends it.
      if (err !== undefined) rs.destroy(err)
      else rs.end()
    }
    done()
  }
  let ret
  try {
    ret = handler(msg.event, rs, v1Context(inv, msg, (err) => settle(err ?? undefined)))
  } catch (err) {
    settle(err)
    return
  }
  Promise.resolve(ret).then(
    () => settle(undefined),
    (err) => settle(err ?? new Error('stream handler rejected')),
  )
}

// --- process.exit -------------------------------------------------------------

// hookExit makes process.exit tell bgfn, before the instance ends, which
// invocation was running ("id" null when none was): an exit between
// invocations (say, a timer an earlier invocation left) then never fails
// an invocation bgfn sent meanwhile, which bgfn runs elsewhere instead.
function hookExit() {
  const realExit = process.exit
  process.exit = function exit(code) {
    const c = code === undefined ? (process.exitCode ?? 0) : Number(code) || 0
    try {
      const id = running === null ? 'null' : running.idJSON
      const line = '{"type":"exit_call","id":' + id + ',"code":' + c + '}\n'
      if (out === null) {
        // Before the function loaded: bgfn reads no messages yet.
      } else if (MODE === 'thread') out.write(line)
      else if (!(out.writableLength > 0)) fs.writeSync(4, line) // after what the socket has written, never inside it
    } catch {}
    return realExit.call(process, code)
  }
}

// ---------------------------------------------------------------------------
// v2 platform-event handlers, the request-context store and identity.
//
// A v2 default export may be an object: {deploySucceeded(event) {…},
// userSignup(event) {…}, fetch(req, context) {…}}. A request whose
// x-netlify-event header names a method it has calls that method with the
// parsed event; any other request calls fetch. Payloads, validation
// messages and answers are those of Netlify's runtime
// (@netlify/serverless-functions-api 2.23.0).

// EVENT_METHODS maps each x-netlify-event slug to its method.
const EVENT_METHODS = {
  deploy_building: 'deployBuilding',
  deploy_succeeded: 'deploySucceeded',
  deploy_failed: 'deployFailed',
  deploy_deleted: 'deployDeleted',
  deploy_locked: 'deployLocked',
  deploy_unlocked: 'deployUnlocked',
  submission_created: 'formSubmitted',
  identity_login: 'userLogin',
  identity_signup: 'userSignup',
  identity_validate: 'userValidate',
  identity_usermodified: 'userModified',
  identity_userdeleted: 'userDeleted',
  fetch: 'fetch',
}
const HANDLER_METHODS = Object.values(EVENT_METHODS)

// isHandlerObject reports whether obj is a handler object: it has fetch or
// an event method.
function isHandlerObject(obj) {
  if (obj === null || typeof obj !== 'object') return false
  for (const m of HANDLER_METHODS) if (typeof obj[m] === 'function') return true
  return false
}

const isObj = (v) => typeof v === 'object' && v !== null
const optStr = (v) => (typeof v === 'string' && v !== '' ? v : undefined)

function validateDeploy(raw) {
  if (!isObj(raw)) return 'expected an object'
  if (!isObj(raw.payload)) return 'missing "payload" object'
  if (!isObj(raw.site)) return 'missing "site" object'
  const p = raw.payload
  if (typeof p.id !== 'string') return 'missing "payload.id"'
  if (typeof p.state !== 'string') return 'missing "payload.state"'
  if (typeof p.created_at !== 'string') return 'missing "payload.created_at"'
  return null
}

function parseDeploy({ payload: p, site: s }) {
  return {
    deploy: {
      id: p.id,
      siteId: p.site_id,
      buildId: p.build_id ?? null,
      state: p.state,
      errorMessage: p.error_message ?? null,
      url: p.url,
      sslUrl: p.ssl_url,
      permalinkUrl: p.deploy_ssl_url,
      adminUrl: p.admin_url,
      context: p.context,
      branch: p.branch ?? null,
      commitRef: p.commit_ref ?? null,
      commitUrl: p.commit_url ?? null,
      commitMessage: p.commit_message ?? null,
      committer: p.committer ?? null,
      title: p.title ?? null,
      createdAt: p.created_at,
      publishedAt: p.published_at ?? null,
      time: p.deploy_time ?? null,
      manual: !!p.manual_deploy,
      framework: p.framework ?? null,
    },
    site: { id: s.id, name: s.name, url: s.url, adminUrl: s.admin_url },
  }
}

function validateSubmission(raw) {
  if (!isObj(raw)) return 'expected an object'
  if (!isObj(raw.payload)) return 'missing "payload" object'
  if (!isObj(raw.payload.data)) return 'missing "payload.data"'
  return null
}

function validateIdentity(raw) {
  if (!isObj(raw)) return 'expected an object'
  if (!isObj(raw.user)) return 'missing "user" object'
  const u = raw.user
  if (typeof u.id !== 'string') return 'missing "user.id"'
  if (typeof u.email !== 'string') return 'missing "user.email"'
  if (typeof u.created_at !== 'string') return 'missing "user.created_at"'
  return null
}

// toUser turns Identity's user (snake_case, metadata objects) into the
// handler's User.
function toUser(u) {
  const app = u.app_metadata ?? {}
  const meta = u.user_metadata ?? {}
  const name = meta.full_name || meta.name
  const roles = Array.isArray(app.roles) && app.roles.every((r) => typeof r === 'string') ? app.roles : undefined
  return {
    id: u.id,
    email: u.email,
    confirmedAt: optStr(u.confirmed_at),
    createdAt: u.created_at,
    updatedAt: u.updated_at,
    role: optStr(u.role),
    provider: optStr(app.provider),
    name: typeof name === 'string' ? name : undefined,
    pictureUrl: typeof meta.avatar_url === 'string' ? meta.avatar_url : undefined,
    roles,
    invitedAt: optStr(u.invited_at),
    confirmationSentAt: optStr(u.confirmation_sent_at),
    recoverySentAt: optStr(u.recovery_sent_at),
    pendingEmail: optStr(u.new_email),
    emailChangeSentAt: optStr(u.email_change_sent_at),
    lastSignInAt: optStr(u.last_sign_in_at),
    userMetadata: meta,
    appMetadata: app,
  }
}

// fromUser is toUser's inverse: what a handler returns as {user} goes back
// to Identity in its own shape.
function fromUser(u) {
  const app = { ...u.appMetadata }
  const meta = { ...u.userMetadata }
  if (u.provider !== undefined) app.provider = u.provider
  if (u.roles !== undefined) app.roles = u.roles
  if (u.name !== undefined) meta.full_name = u.name
  if (u.pictureUrl !== undefined) meta.avatar_url = u.pictureUrl
  return {
    id: u.id,
    email: u.email,
    confirmed_at: u.confirmedAt ?? null,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    role: u.role,
    invited_at: u.invitedAt ?? null,
    confirmation_sent_at: u.confirmationSentAt ?? null,
    recovery_sent_at: u.recoverySentAt ?? null,
    new_email: u.pendingEmail ?? null,
    email_change_sent_at: u.emailChangeSentAt ?? null,
    last_sign_in_at: u.lastSignInAt ?? null,
    app_metadata: app,
    user_metadata: meta,
  }
}

const DENIED = Symbol('identity-event-denied')

function parseIdentity(raw) {
  const ev = {
    user: toUser(raw.user),
    [DENIED]: false,
    deny() {
      ev[DENIED] = true
    },
  }
  return ev
}

const ok200 = () => new Response(null, { status: 200 })

// EVENT_TYPES validates, parses and answers each event, by slug.
const deployType = { validate: validateDeploy, parse: parseDeploy, respond: ok200 }
const identityType = {
  validate: validateIdentity,
  parse: parseIdentity,
  respond: (result, ev) => {
    if (ev[DENIED]) return new Response(null, { status: 401 })
    if (result === undefined || result === null) return ok200()
    return Response.json(fromUser(result.user))
  },
}
const EVENT_TYPES = {
  deploy_building: deployType,
  deploy_succeeded: deployType,
  deploy_failed: deployType,
  deploy_deleted: deployType,
  deploy_locked: deployType,
  deploy_unlocked: deployType,
  submission_created: { validate: validateSubmission, parse: (raw) => ({ data: raw.payload.data }), respond: ok200 },
  identity_login: identityType,
  identity_signup: identityType,
  identity_validate: identityType,
  identity_usermodified: identityType,
  identity_userdeleted: { validate: validateIdentity, parse: parseIdentity, respond: ok200 },
}

function eventSlug(event) {
  const v = event.headers?.['x-netlify-event']
  return typeof v === 'string' ? v.trim() : ''
}

// invokeV2Object runs one invocation of a handler object.
function invokeV2Object(obj, msg) {
  const event = msg.event ?? {}
  const slug = eventSlug(event)
  const method = EVENT_METHODS[slug]
  if (method !== undefined && method !== 'fetch' && typeof obj[method] === 'function') {
    invokeEvent(obj[method], slug, msg)
    return
  }
  if (typeof obj.fetch === 'function') {
    invokeV2(obj.fetch, msg)
    return
  }
  const err = new TypeError(
    `Function ${FUNCTION_NAME}'s default export is an object without a fetch method` +
      (slug !== '' ? ` and without a method for the event "${slug}"` : '') +
      ': add fetch(req, context) to answer HTTP requests, or send x-netlify-event with an event it handles (bgfn trigger EVENT)',
  )
  err.stack = `TypeError: ${err.message}`
  fail(new Invocation(msg.id), err)
}

// invokeEvent calls an event method with the request's parsed payload and
// answers as Netlify does: 400 for a body that is not JSON or not a valid
// payload, 401 when an identity handler called event.deny(), the user it
// returned as JSON, else 200.
function invokeEvent(method, slug, msg) {
  const inv = new Invocation(msg.id)
  let ctx, req
  try {
    const event = msg.event ?? {}
    setBlobsContext(event)
    req = buildRequest(event)
    ctx = new Context(inv, req, event, msg.params)
    current = ctx
  } catch (err) {
    fail(inv, err)
    return
  }
  const type = EVENT_TYPES[slug]
  req.text().then((text) => {
    let raw
    try {
      raw = JSON.parse(text)
    } catch {
      respondV2(inv, Response.json({ error: `Failed to parse event payload as JSON for "${slug}"` }, { status: 400 }))
      return
    }
    const problem = type.validate(raw)
    if (problem !== null) {
      respondV2(inv, Response.json({ error: `Invalid event payload for "${slug}": ${problem}` }, { status: 400 }))
      return
    }
    const payload = type.parse(raw)
    let ret
    try {
      ret = inRequestStore(ctx, () => method(payload))
    } catch (err) {
      fail(inv, err)
      return
    }
    Promise.resolve(ret).then((result) => {
      let res
      try {
        res = type.respond(result, payload)
      } catch (err) {
        fail(inv, err)
        return
      }
      respondV2(inv, res)
    }, (err) => fail(inv, err))
  }, (err) => fail(inv, err))
}

// The store @netlify/functions' getContext() reads: an AsyncLocalStorage
// under a global symbol, holding {context, identityContext} while a v2
// handler runs. It is created on first use (when @netlify/functions loads),
// so functions that never import it pay nothing for async context
// tracking.
const STORE_KEY = Symbol.for('@netlify/functions/request-context-store')
let requestStore = null

// defineRequestGlobals installs the store's global and
// globalThis.netlifyIdentityContext (what @netlify/identity reads on the
// server), as Netlify's runtime does.
function defineRequestGlobals() {
  Object.defineProperty(globalThis, STORE_KEY, {
    configurable: true,
    enumerable: false,
    get() {
      requestStore ??= new AsyncLocalStorage()
      return requestStore
    },
    set(v) {
      if (v instanceof AsyncLocalStorage) requestStore = v
    },
  })
  Object.defineProperty(globalThis, 'netlifyIdentityContext', {
    configurable: true,
    enumerable: false,
    get() {
      const s = requestStore?.getStore()
      if (s !== undefined) return s.identityContext ?? null
      return current?._inv.identity ?? null
    },
  })
}

// decodeIdentity reads x-nf-identity-info: base64 JSON {url, token, user}.
function decodeIdentity(req) {
  const raw = requestHeader(req, 'x-nf-identity-info')
  if (!raw) return null
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'))
    if (isObj(v)) return v
  } catch {}
  console.error('Failed to decode identity data from X-Nf-Identity-Info header')
  return null
}

// inRequestStore runs fn (a v2 handler call) with ctx as the request
// context getContext() and netlifyIdentityContext see.
function inRequestStore(ctx, fn) {
  const inv = ctx._inv
  inv.identity = decodeIdentity(ctx._req)
  if (requestStore === null) return fn()
  return requestStore.run({ context: ctx, identityContext: inv.identity }, fn)
}

// ---------------------------------------------------------------------------
// Requests: newline-delimited JSON on fd 3.

function listen(onMessage) {
  if (MODE === 'thread') {
    parentPort.on('message', (text) => dispatch(text, onMessage))
    return
  }
  readLines((text) => dispatch(text, onMessage))
}

// readLines calls onLine with each line that arrives on fd 3, and exits
// when fd 3 closes: bgfn stopped the worker, or is gone.
function readLines(onLine) {
  let input
  try {
    input = new net.Socket({ fd: 3, readable: true, writable: false })
  } catch {
    input = fs.createReadStream(null, { fd: 3 })
  }
  let partial = null // Buffers of a line not yet complete
  input.on('data', (chunk) => {
    let start = 0
    let nl
    while ((nl = chunk.indexOf(10, start)) !== -1) {
      let text
      if (partial === null) {
        text = chunk.toString('utf8', start, nl)
      } else {
        partial.push(chunk.subarray(start, nl))
        text = Buffer.concat(partial).toString('utf8')
        partial = null
      }
      start = nl + 1
      if (text.length > 0) onLine(text)
    }
    if (start < chunk.length) {
      if (partial === null) partial = []
      partial.push(start === 0 ? chunk : chunk.subarray(start))
    }
  })
  input.on('end', () => process.exit(0))
  input.on('close', () => process.exit(0))
  input.on('error', () => process.exit(1))
}

function dispatch(text, onMessage) {
  let msg
  try {
    msg = JSON.parse(text)
  } catch {
    try {
      fs.writeSync(2, 'bgfn bootstrap: ignoring a malformed message on fd 3\n')
    } catch {}
    return
  }
  if (msg === null || typeof msg !== 'object') return
  // An invocation starts after what the last one left for this turn of
  // the event loop (setImmediate callbacks): a process.exit scheduled
  // there lands between the two, not in the new one (PROTOCOL.md,
  // "process.exit").
  if (msg.type === 'invoke') setImmediate(onMessage, msg)
  else if (msg.type === 'credit' || msg.type === 'abort') streamControl(msg)
}

// ---------------------------------------------------------------------------
// Start-up.

function logStreamName() {
  const d = new Date()
  const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`
  let hex = ''
  while (hex.length < 32) hex += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0')
  return `${day}/[$LATEST]${hex.slice(0, 32)}`
}

function initError(errorInfoValue) {
  if (errorInfoValue.errorType === 'MissingBlobsEnvironmentError') {
    // getStore() at module top level: Netlify sets the Blobs context for
    // each invocation, so this fails in production too.
    errorInfoValue.errorMessage +=
      ' (called while the module loaded: Netlify, and bgfn, give a function its Blobs context per invocation, so call getStore() inside the handler)'
  }
  openOut()
  const line = JSON.stringify({ type: 'init_error', error: errorInfoValue }) + '\n'
  if (MODE === 'thread') {
    out.write(line)
    process.exit(1)
  }
  out.write(line, () => process.exit(1))
}

// findHandler applies PROTOCOL.md's rules to the module namespace.
function findHandler(mod) {
  if (typeof mod.handler === 'function') return { api: 'v1', fn: mod.handler }
  const d = mod.default
  if (d !== null && (typeof d === 'object' || typeof d === 'function')) {
    if (typeof d.handler === 'function') return { api: 'v1', fn: d.handler }
    if (typeof d === 'function') return { api: 'v2', fn: d }
    if (typeof d.default === 'function') return { api: 'v2', fn: d.default }
    const obj = d.default !== null && typeof d.default === 'object' ? d.default : d
    if (isHandlerObject(obj)) return { api: 'v2', fn: obj }
  }
  return null
}

// applyLoad gives a thread its function: the entry and the whole
// environment of that function (the host's own is not the function's).
function applyLoad(load) {
  instPrefix = '{"inst":' + Number(load.inst) + ','
  const fnEnv = load.env !== null && typeof load.env === 'object' ? load.env : {}
  for (const k of Object.keys(env)) if (!(k in fnEnv)) delete env[k]
  Object.assign(env, fnEnv)
  env.BGFN_ENTRY = typeof load.entry === 'string' ? load.entry : ''
  configure()
}

// runHost runs instances in worker threads and relays their messages.
// Lines from bgfn start with {"inst":N,"type":T}: spawn starts instance N
// (from a spare thread when one is ready), invoke is passed to it as it
// is, stop terminates it (a timeout, a cancel, an idle instance). Every
// line from an instance goes out with the same {"inst":N, prefix; its
// console output as {"inst":N,"type":"log","s":1|2,"d":"..."} lines; its
// end as {"inst":N,"type":"exit","code":C} (with "error" when it threw).
function runHost() {
  openOut()
  const threads = new Map()
  const spares = []
  const wantSpares = Math.max(0, Number(env.BGFN_SPARES ?? 1) || 0)
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || 1024
  const youngMb = Number(env.BGFN_YOUNG_GENERATION_MB) || 8
  const self = new URL(import.meta.url)
  const newThread = (data) =>
    new Worker(self, {
      workerData: { ...data, lock: lock.buffer },
      stdout: false,
      stderr: false,
      // An instance has Lambda's memory: past it the thread dies, not the host.
      // A small young generation keeps an idle-but-warm thread near 20 MB
      // instead of 50 (V8's default grows to 16 MB semi-spaces and keeps
      // them); scavenges stay cheap at this size.
      resourceLimits: { maxOldGenerationSizeMb: memory, maxYoungGenerationSizeMb: youngMb },
    })
  // Spares start one at a time: started together they would slow each
  // other, and the first spawn, down.
  let starting = false
  // Spares load and warm up the fetch classes (undici: ~2.5 MB a thread)
  // once a v2 function has run in this host; a host of v1 functions only
  // does without them.
  let spareFetch = false
  const fill = () => {
    if (starting || spares.length >= wantSpares) return
    starting = true
    const w = newThread({ spare: true, fetch: spareFetch })
    w.on('error', () => {})
    w.on('exit', () => {
      const i = spares.indexOf(w)
      if (i !== -1) spares.splice(i, 1)
    })
    w.once('message', () => {
      starting = false
      w.postMessage(SPARE_PING)
      fill()
    })
    spares.push(w)
  }
  // New threads start a few at a time (a thread's start-up is tens of
  // milliseconds of CPU): in a burst the first are up sooner, and serve
  // the queue while the rest start.
  const maxBooting = Math.max(1, Number(env.BGFN_PARALLEL_STARTS ?? 4) || 4)
  let booting = 0
  const queued = [] // [inst, spawn message]
  const pump = () => {
    while (booting < maxBooting && queued.length > 0) {
      const [inst, msg] = queued.shift()
      booting++
      attach(inst, newThread({ load: msg }), true)
      // bgfn's init limit starts now, not while the spawn waited its turn.
      out.write('{"inst":' + inst + ',"type":"booting"}\n')
    }
  }
  const attach = (inst, w, boot) => {
    threads.set(inst, w)
    const prefix = '{"inst":' + inst + ','
    let ended = false
    const booted = () => {
      if (boot) {
        boot = false
        booting--
        pump()
      }
    }
    // A thread says once that it has loaded (or failed to); everything
    // else it writes to fd 4 itself.
    w.on('message', (api) => {
      if (api === 'v2' && !spareFetch) {
        spareFetch = true
        // Spares made before now warm up for v2 too.
        for (const s of spares) s.postMessage(SPARE_FETCH)
      }
      booted()
    })
    const tid = w.threadId + 1
    const unlock = () => {
      // Terminated while writing: end the line it may have left half
      // written (bgfn skips it), then free the lock it held. No one else
      // can take the lock meanwhile, and the thread cannot.
      if (Atomics.load(lock, 0) !== tid) return
      try {
        writeAll('\n')
      } finally {
        unlockOut()
      }
      flushHostLines()
    }
    w.on('error', (err) => {
      booted()
      unlock()
      if (ended) return
      ended = true
      out.write(prefix + '"type":"exit","code":1,"error":' + JSON.stringify(errorInfo(err)) + '}\n')
    })
    w.on('exit', (code) => {
      booted()
      unlock()
      threads.delete(inst)
      if (ended) return
      ended = true
      out.write(prefix + '"type":"exit","code":' + code + '}\n')
    })
  }
  const HEAD = /^\{"inst":(\d+),"type":"(\w+)"/
  readLines((text) => {
    const m = HEAD.exec(text)
    if (m === null) return
    const inst = Number(m[1])
    switch (m[2]) {
      case 'invoke':
      case 'credit':
      case 'abort': {
        const w = threads.get(inst)
        if (w !== undefined) w.postMessage(text)
        break
      }
      case 'spawn': {
        const msg = JSON.parse(text)
        let w = spares.shift()
        if (w !== undefined) {
          w.removeAllListeners('error')
          w.removeAllListeners('exit')
          if (w.listenerCount('message') > 0) {
            // Taken before it said it was ready: the next spare may start.
            w.removeAllListeners('message')
            starting = false
          }
          w.postMessage(msg)
          attach(inst, w, false)
          out.write('{"inst":' + inst + ',"type":"booting"}\n')
        } else {
          queued.push([inst, msg])
          pump()
        }
        setImmediate(fill)
        break
      }
      case 'stop': {
        const w = threads.get(inst)
        if (w !== undefined) {
          w.terminate()
          break
        }
        const i = queued.findIndex(([n]) => n === inst)
        if (i !== -1) {
          queued.splice(i, 1)
          out.write('{"inst":' + inst + ',"type":"exit","code":1}\n')
        }
        break
      }
    }
  })
  fill()
}

// warmFetch loads the fetch classes and runs what a v2 invocation runs
// with them (a Request with headers and a body, Response.json, headers
// read out, a body read through its stream and whole), once per thread.
// V8 compiles a function on its first call: without this, a new
// instance's first v2 invocation compiled undici's code paths as it went,
// 15-30 ms, the largest part of a v2 reload (issue 19).
let fetchWarm = null
function warmFetch() {
  fetchWarm ??= (async () => {
    try {
      probeFastPaths()
      const req = new Request('http://localhost/warm?a=1', {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ['x-warm', '1'],
        ],
        body: '{}',
      })
      req.headers.get('x-warm')
      void new URL(req.url).searchParams
      await req.json()
      const res = Response.json({ warm: true }, { headers: { 'x-warm': '1' } })
      res.headers.getSetCookie?.()
      for (const _ of res.headers);
      const reader = res.body.getReader()
      while (!(await reader.read()).done);
      await new Response('warm').arrayBuffer()
      await new Response(new Uint8Array(1)).text()
    } catch {}
  })()
  return fetchWarm
}

// A spare thread warms up before it is given a function: it runs one v1
// invocation, and when the host has run a v2 function two v2 invocations (a POST with a body, a GET without),
// of do-nothing handlers through the same code as real ones (dispatch,
// the event, Request and Context, the handler's Response read out, the
// answer), with WARM_ID as their id, whose answers finish drops. V8 compiles each function on its first call, so
// otherwise a new instance's first invocation pays for compiling them:
// 1-3 ms for v1, 15-30 ms for v2 (undici), in every reload (issue 19).
const WARM_ID = '\u0000bgfn-warm'
let warming = null
let warmLeft = 0
let warmResolve = null
function warmEnded(inv) {
  inv.resultSent = true
  if (running === inv) running = null
  current = null
  wrote = false
  if (--warmLeft === 0) warmResolve()
}

function warmUp(fetch) {
  warming = new Promise((resolve) => {
    warmResolve = resolve
    warmLeft = fetch ? 3 : 1
    const event = {
      path: '/.netlify/functions/warm',
      httpMethod: 'POST',
      headers: { host: 'localhost', 'content-type': 'application/json', cookie: 'a=1', 'x-nf-request-id': 'warm' },
      multiValueHeaders: { host: ['localhost'], 'content-type': ['application/json'], cookie: ['a=1'], 'x-nf-request-id': ['warm'] },
      queryStringParameters: { a: '1' },
      multiValueQueryStringParameters: { a: ['1'] },
      body: '{"warm":true}',
      isBase64Encoded: false,
      rawUrl: 'http://localhost/.netlify/functions/warm?a=1',
      rawQuery: 'a=1',
    }
    const line = JSON.stringify({ type: 'invoke', id: WARM_ID, event, clientContext: null, deadlineMs: Date.now() + 10000, background: false, params: {} })
    // A GET without a body, as a browser or curl sends it, takes v2's
    // other paths (the Request's header list filled directly, no body).
    const get = {
      path: '/.netlify/functions/warm',
      httpMethod: 'GET',
      headers: { host: 'localhost', 'user-agent': 'warm', accept: '*/*', 'x-nf-request-id': 'warm' },
      multiValueHeaders: { host: ['localhost'], 'user-agent': ['warm'], accept: ['*/*'], 'x-nf-request-id': ['warm'] },
      queryStringParameters: {},
      multiValueQueryStringParameters: {},
      isBase64Encoded: false,
      rawUrl: 'http://localhost/.netlify/functions/warm',
      rawQuery: '',
    }
    const getLine = JSON.stringify({ type: 'invoke', id: WARM_ID, event: get, clientContext: null, deadlineMs: Date.now() + 10000, background: false, params: {} })
    const v1 = async (ev, context) => {
      context.getRemainingTimeInMillis()
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: ev.body }
    }
    const v2 = async (req, context) => {
      req.headers.get('content-type')
      void context.cookies.get('a')
      void context.geo
      const body = await req.json()
      return Response.json(body, { headers: { 'x-warm': '1' } })
    }
    const v2get = async (req) => {
      req.headers.get('accept')
      return Response.json({ warm: true })
    }
    // One after the other: they share the running invocation.
    const when = (left, fn) => {
      const next = () => (warmLeft === left ? fn() : setImmediate(next))
      next()
    }
    dispatch(line, (msg) => {
      invokeV1(v1, msg)
      if (!fetch) return
      when(2, () => dispatch(line, (m) => invokeV2(v2, m)))
      when(1, () => dispatch(getLine, (m) => invokeV2(v2get, m)))
    })
  })
  if (fetch) warming = warming.then(warmFetch)
  warming = warming.then(warmImport)
  return warming
}

// warmImport imports a module shaped like a bundle (esbuild's banner with
// createRequire, a source map) from a data: URL, once per thread: a
// thread's first import() of a module runs Node's code for it, and with
// --enable-source-maps its source-map code, for the first time, about
// 0.5-1 ms that a new instance's import of its bundle then does not pay.
let importWarm = null
function warmImport() {
  const map = Buffer.from('{"version":3,"sources":["warm.js"],"names":[],"mappings":"AAAA"}').toString('base64')
  const src =
    'import { createRequire } from "node:module"\n' +
    `createRequire(${JSON.stringify(import.meta.url)})\n` +
    'export default 1\n' +
    `//# sourceMappingURL=data:application/json;base64,${map}\n`
  importWarm ??= import('data:text/javascript,' + encodeURIComponent(src)).catch(() => {})
  return importWarm
}

// SPARE_PING is the host's first message to a spare that said it is
// ready. A thread's first message costs it about 2 ms more than the next
// ones (Node's message path runs for the first time); paid here, the load
// message that a reload waits for arrives in a fraction of that.
// SPARE_FETCH tells a spare made before the host ran a v2 function to
// warm up for v2 as well.
const SPARE_PING = '\u0000bgfn-ping'
const SPARE_FETCH = '\u0000bgfn-fetch'

// awaitLoad is a spare's wait for its load message (the function it runs).
// Meanwhile, once idle for BGFN_SPARE_WARM_MS, it warms up, for v2 too
// when fetch is set or the host says so, but never ahead of a load that
// has arrived.
function awaitLoad(fetch) {
  return new Promise((resolve) => {
    let warmed = false
    const warm = () => {
      warmed = true
      warmUp(fetch)
    }
    const t = setTimeout(warm, Number(env.BGFN_SPARE_WARM_MS ?? 100))
    const onMessage = (msg) => {
      if (msg === SPARE_PING) return
      if (msg === SPARE_FETCH) {
        if (fetch) return
        fetch = true
        // A warm-up done (or under way) without v2 gets a v2 one after it.
        if (warmed) warming = warming.then(() => warmUp(true))
        return
      }
      clearTimeout(t)
      parentPort.off('message', onMessage)
      resolve(msg)
    }
    parentPort.on('message', onMessage)
    parentPort.postMessage({ spare: 'ready' })
  })
}

async function main() {
  if (MODE === 'host') {
    runHost()
    return
  }
  const netlify = {
    env: {
      get: (key) => env[key],
      set: (key, value) => {
        env[key] = value
      },
      has: (key) => !!env[key],
      delete: (key) => {
        delete env[key]
      },
      toObject: () => ({ ...env }),
    },
    get context() {
      return current
    },
  }
  Object.defineProperty(globalThis, 'Netlify', { value: netlify, writable: true, configurable: true, enumerable: false })
  defineRequestGlobals()
  installAwsLambda()
  hookExit()
  hookStdio('stdout', 1)
  hookStdio('stderr', 2)

  if (env.BGFN_PROTOCOL && env.BGFN_PROTOCOL !== '1') {
    initError({ errorType: 'Runtime.ProtocolMismatch', errorMessage: `bootstrap speaks protocol 1, bgfn asked for ${env.BGFN_PROTOCOL}`, stack: [] })
    return
  }
  if (MODE === 'thread') {
    // A spare thread is started before bgfn knows which function it will
    // run, so a new instance skips Node's start-up: its first message
    // names the function. It loads the fetch classes (undici) meanwhile.
    let load = workerData?.load
    if (load === undefined) {
      load = await awaitLoad(workerData.fetch === true)
      // A warm-up under way ends first (a few milliseconds): its
      // invocations must be over before the function's own begin.
      if (warming !== null) await warming
    }
    applyLoad(load)
  }
  const entry = env.BGFN_ENTRY
  if (!entry) {
    initError({ errorType: 'Runtime.InvalidEntrypoint', errorMessage: 'BGFN_ENTRY is not set', stack: [] })
    return
  }
  // Follow fd 3 from now on, before the import: a module that never
  // finishes loading (a top-level await that never settles) must still
  // exit when bgfn closes the pipe, or dies. bgfn sends no invocation
  // before "ready".
  let onInvoke = null
  listen((msg) => {
    if (onInvoke !== null) onInvoke(msg)
  })
  let mod
  try {
    mod = await import(pathToFileURL(entry).href)
  } catch (err) {
    initError(errorInfo(err))
    return
  }
  const found = findHandler(mod)
  if (found === null) {
    initError({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${entry} does not export a handler: export a 'handler' function (Lambda-compatible) or a default function (Netlify Functions 2.0)`,
      stack: [],
    })
    return
  }
  openOut()
  const fn = found.fn
  if (found.api === 'v1' && fn[STREAMING] === 'response') {
    onInvoke = (msg) => {
      wrote = false
      invokeV1Stream(fn, msg)
    }
  } else if (found.api === 'v1') {
    onInvoke = (msg) => {
      wrote = false
      invokeV1(fn, msg)
    }
  } else if (typeof fn !== 'function') {
    onInvoke = (msg) => {
      wrote = false
      invokeV2Object(fn, msg)
    }
  } else {
    onInvoke = (msg) => {
      wrote = false
      invokeV2(fn, msg)
    }
  }
  // What the module printed while loading is not the first invocation's:
  // when it printed anything, the end markers (id "ready") come first.
  const loadLogs = wrote
  wrote = false
  emit('ready', '{"type":"ready","api":"' + found.api + '"' + (loadLogs ? ',"logs":true' : '') + '}\n', loadLogs)
  // Tell the host the start-up is over: it may start the next thread.
  if (MODE === 'thread') parentPort.postMessage(found.api)
  // Loading the fetch classes takes tens of milliseconds; do it while bgfn
  // routes the first request rather than during it.
  if (found.api === 'v2') setImmediate(warmFetch)
}

main()
