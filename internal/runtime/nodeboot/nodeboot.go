// Package nodeboot embeds the Node.js bootstrap that every JS/TS worker
// runs: it loads the bundled function and speaks bgfn's pipe protocol
// (PROTOCOL.md) on fd 3 and fd 4.
package nodeboot

import _ "embed"

// Source is the bootstrap module (bootstrap.mjs).
//
//go:embed bootstrap.mjs
var Source []byte
