// Package version reports which bgfn this is. Release builds set the
// variables with -ldflags -X; `go install` builds fall back to the module
// information the Go toolchain embeds.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by goreleaser through -ldflags "-X github.com/bgfn-dev/bgfn/internal/version.Version=...".
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is the resolved version information.
type Info struct {
	Version string
	Commit  string
	Date    string
	Go      string
}

// Get returns the version, filling what ldflags did not set from the
// embedded build information.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// String is the one line `bgfn version` prints.
func (i Info) String() string {
	s := "bgfn " + i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += fmt.Sprintf(" (%s", c)
		if i.Date != "" {
			s += ", " + i.Date
		}
		s += ")"
	}
	return s + " " + i.Go + " " + runtime.GOOS + "/" + runtime.GOARCH
}
