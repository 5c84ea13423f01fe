// Package apiclient is the Go client of a running `bgfn dev`'s /.bgfn/api:
// finding the server of a site, reading, listing and waiting for
// invocation records, replays, the functions with their builds, the
// resolved configuration, the log tail with its cursor, calls to the
// functions themselves, and the Blobs JSON API. Commands that talk to a
// running bgfn (invoke, replay, smoke, blobs, mcp) share it. It must not
// import dev, server or runtime.
package apiclient
