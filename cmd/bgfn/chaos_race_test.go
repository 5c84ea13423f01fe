//go:build linux && race

package main

// chaosPOSTs is how many background POSTs the chaos test sends: under the
// race detector bgfn runs several times slower, so 500 keep it within its
// time (the behaviour under test is the same).
const chaosPOSTs = 500

// raceBuild is the [race] condition of the scripts.
const raceBuild = true
