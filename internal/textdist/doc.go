// Package textdist finds the name a user most likely meant: the Levenshtein
// distance between two strings, and the nearest of a list of names when it
// is close enough to suggest ("did you mean …?"). invoke, smoke and mcp use
// it for unknown function names and keys.
package textdist
