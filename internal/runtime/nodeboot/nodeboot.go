// Package nodeboot holds the Node bootstrap that runs JS and TS functions.
//
// bgfn writes Source to disk and starts one `node bootstrap.mjs` per worker.
// The bootstrap imports the bundled function, then answers invocations over
// extra pipes (requests on fd 3, messages on fd 4) while fd 1 and fd 2 carry
// only the user's output. PROTOCOL.md in this directory is the contract
// between the two sides; bootstrap.test.mjs tests the JS side (run it with
// `node --test internal/runtime/nodeboot/`, or through `go test`).
package nodeboot

import _ "embed"

// Source is bootstrap.mjs: a dependency-free ES module for Node 18 or newer.
//
//go:embed bootstrap.mjs
var Source []byte

// ProtocolVersion is the value bgfn passes in BGFN_PROTOCOL; the bootstrap
// refuses to start (init_error Runtime.ProtocolMismatch) on any other.
const ProtocolVersion = "1"
