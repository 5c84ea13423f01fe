// Package blobs is bgfn's local Netlify Blobs: a store on disk and an HTTP
// server that the unmodified @netlify/blobs client talks to, plus the JSON
// API for bgfn's own pages and the logic of `bgfn blobs`.
//
// It owns three things:
//
//   - Store: entries and metadata under a site's .netlify/blobs-serve, in
//     the layout netlify's own BlobsServer uses (entries/<site>/<store>/<key>
//     and metadata/<site>/<store>/<key>), so data written by `netlify dev`
//     is visible here and the other way round. Writes go to a temporary
//     file, are synced and renamed into place under a lock shared by every
//     process, so concurrent writers end with one whole value and
//     conditional writes cannot race. Values stream to and from disk.
//   - Server: the wire protocol of @netlify/blobs 8.x to 11.x (edge-style
//     /{site}/{store}/{key} requests, listings, metadata headers, ETags and
//     conditions, signed URLs for the API style, the Bearer token), served
//     on a loopback port of its own because the client resolves its paths
//     against the origin of the edge URL and drops any path.
//   - The JSON API under /.bgfn/api/blobs and the commands built on it.
//
// The protocol, and where it differs from netlify's server, is described
// in the comments of server.go; the file-name encoding in names.go.
//
// This package must not import internal/runtime, internal/server or
// internal/dev: those wire it in, not the other way round.
package blobs
