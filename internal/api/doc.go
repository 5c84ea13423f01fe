// Package api serves bgfn's own endpoints under /.bgfn/: the invocation
// records as JSON, waiting for one to end, replays, a Server-Sent Events
// stream of record changes and log lines, a tail of the log ring with a
// cursor, the functions with their build state, and the resolved
// configuration (env keys, never values). It also mounts the Blobs JSON
// API and the MCP endpoint (/.bgfn/mcp) it is handed, so every /.bgfn/
// path goes through one handler. Clients (bgfn invoke, replay, smoke, mcp)
// read the wire types defined here and in records.
//
// It runs nothing itself: replays go through a Replayer (the server), and
// the functions and configuration come from functions the server fills
// in Options. It must not import dev, build or cli.
package api
