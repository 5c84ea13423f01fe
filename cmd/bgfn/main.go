// Command bgfn runs Netlify Functions locally. See README.md.
package main

import (
	"os"

	"github.com/bgfn-dev/bgfn/internal/cli"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], ui.System()))
}
