// Package apiclient is the Go client of a running `bgfn dev`'s /.bgfn/api:
// finding the server of a site, reading and waiting for invocation
// records, replays. Commands that talk to a running bgfn (invoke, replay,
// smoke, blobs) share it. It must not import dev, server or runtime.
package apiclient
