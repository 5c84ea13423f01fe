//go:build race

package dev

// raceEnabled slows what the race detector instruments: the browser tests
// then allow three times their time limits, and only report the render
// time (the race step checks for races, not for speed).
const raceEnabled = true
