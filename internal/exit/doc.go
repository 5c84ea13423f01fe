// Package exit holds the exit codes every bgfn command uses, and the error
// type that carries one up to cli, the only package that turns it into the
// process's exit status. It imports nothing of bgfn.
package exit
