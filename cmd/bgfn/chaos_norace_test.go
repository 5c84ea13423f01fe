//go:build linux && !race

package main

// chaosPOSTs is how many background POSTs the chaos test sends: issue
// 16's 2,000.
const chaosPOSTs = 2000

// raceBuild is the [race] condition of the scripts.
const raceBuild = false
