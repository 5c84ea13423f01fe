// Loads like a native addon that is not context-aware: Node refuses it in
// a worker thread with this very message, and loads it in a main thread.
const { isMainThread } = require('worker_threads')

if (!isMainThread) {
  throw new Error("Module did not self-register: '/site/node_modules/addon/build/Release/addon.node'.")
}

exports.handler = async () => ({ statusCode: 200, body: `loaded in pid ${process.pid}` })
