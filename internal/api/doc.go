// Package api serves bgfn's own endpoints under /.bgfn/: the invocation
// records as JSON, waiting for one to end, replays, and a Server-Sent
// Events stream of record changes and log lines. Clients (bgfn invoke,
// replay, smoke) read the wire types defined here and in records.
//
// It runs nothing itself: replays go through a Replayer (the server). It
// must not import dev or cli.
package api
