// Package site loads "the functions of this folder": the configuration
// (netlify.toml and .env files), the functions discovered with their
// settings, and every warning about them, in one Load that `bgfn dev`,
// `invoke`, `list` and the rest share. It also owns the files a running
// `bgfn dev` leaves in the site (its state file) and the environment
// workers start from.
//
// It knows nothing of builds, workers or HTTP: it must not import build,
// runtime, server or dev.
package site
