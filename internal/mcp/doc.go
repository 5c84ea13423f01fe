// Package mcp is bgfn's Model Context Protocol server (issue 18): the
// verbs of the CLI as tools a coding agent can call, with JSON schemas
// written for a model, structured results and a short text summary each,
// and each function's entry file and build output as resources.
//
// One tool table serves two transports. NewHTTPHandler is the Streamable
// HTTP endpoint a running `bgfn dev` mounts at /.bgfn/mcp (under /.bgfn/,
// so the Host and Origin guard of issue 17 covers it); ServeStdio is
// `bgfn mcp`, for agents that spawn a command. Either way every tool talks
// to a bgfn server through apiclient, at the URL its Target gives: bgfn
// dev's own, or the one `bgfn mcp` found or started in process. There is
// no second implementation of any verb.
//
// Safety: tools never return environment values (get_config lists keys
// and their sources) or a Blobs token (the JSON API has none). A bad
// argument is a tool error that names the argument and says why; a
// handler that panics becomes a tool error too, never a crashed server. A
// tool that waits (invoke_function with wait, wait_invocation,
// replay_invocation with wait) stops when the client cancels the call:
// the SDK cancels the handler's context, which ends the API request it
// waits on.
//
// Tools still to come are one entry each in the table of tools.go:
// cancel_invocation once issue 17 gives the API a cancel endpoint,
// trigger_schedule and trigger_event once issue 15 lands.
package mcp
