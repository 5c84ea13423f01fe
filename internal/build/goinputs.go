package build

import (
	"crypto/sha256"
	"encoding/hex"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// goInputs remembers, per function folder, the inputs `go list -deps`
// found and a key of what decides them: the names of the Go files in the
// folders involved, each file's header (build constraints, package clause
// and imports), go.mod and go.sum. A rebuild whose key is unchanged (an
// edit inside function bodies, the usual save) reuses the list instead of
// running `go list` again, which costs ~100 ms of CPU beside the compiler.
type goInputs struct {
	mu    sync.Mutex
	byDir map[string]inputsEntry
}

type inputsEntry struct {
	key   string
	files []string
}

// lookup returns the inputs remembered for dir when their key still holds.
func (c *goInputs) lookup(dir string) ([]string, bool) {
	c.mu.Lock()
	e, ok := c.byDir[dir]
	c.mu.Unlock()
	if !ok || inputsKey(dir, e.files) != e.key {
		return nil, false
	}
	return e.files, true
}

// remember stores the inputs found for dir under their key.
func (c *goInputs) remember(dir string, files []string) {
	key := inputsKey(dir, files)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byDir == nil {
		c.byDir = make(map[string]inputsEntry)
	}
	c.byDir[dir] = inputsEntry{key: key, files: slices.Clone(files)}
}

// inputsKey hashes what decides a Go function's inputs: every Go file now
// in dir's tree and in the folders of files (new files count), each with
// its header, plus the module files among files.
func inputsKey(dir string, files []string) string {
	candidates := map[string]bool{}
	addDir := func(d string) {
		entries, err := os.ReadDir(d)
		if err != nil {
			candidates[d+string(filepath.Separator)+"\x00missing"] = true
			return
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
				candidates[filepath.Join(d, e.Name())] = true
			}
		}
	}
	eachSourceDir(dir, addDir)
	for _, f := range files {
		if strings.HasSuffix(f, ".go") {
			addDir(filepath.Dir(f))
		} else {
			candidates[f] = true // go.mod, go.sum
		}
	}
	names := make([]string, 0, len(candidates))
	for p := range candidates {
		names = append(names, p)
	}
	slices.Sort(names)
	h := sha256.New()
	fset := token.NewFileSet()
	for _, p := range names {
		io.WriteString(h, p+"\x00")
		src, err := os.ReadFile(p)
		if err != nil {
			io.WriteString(h, "\x00unreadable\x00")
			continue
		}
		if !strings.HasSuffix(p, ".go") {
			h.Write(src)
			h.Write([]byte{0})
			continue
		}
		h.Write(goHeader(fset, p, src))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// eachSourceDir calls fn with dir and each folder below it, skipping
// node_modules and hidden folders: where a Go function's own files live.
func eachSourceDir(dir string, fn func(string)) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if p != dir && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			fn(p)
		}
		return nil
	})
}

// goHeader is the part of a Go file that decides what it imports: from
// the start (build constraints, package clause) to the end of its imports.
// A file whose header does not parse is taken whole, so any edit changes
// the key.
func goHeader(fset *token.FileSet, path string, src []byte) []byte {
	f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return src
	}
	end := f.Name.End()
	for _, imp := range f.Imports {
		if imp.End() > end {
			end = imp.End()
		}
	}
	off := fset.Position(end).Offset
	if off < 0 || off > len(src) {
		return src
	}
	return src[:off]
}
