//go:build !race

package dev

const raceEnabled = false
