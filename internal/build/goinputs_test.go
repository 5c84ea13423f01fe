package build

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInputsKey(t *testing.T) {
	base := map[string]string{
		"fn/go.mod":         "module example.com/fn\n\ngo 1.22\n",
		"fn/main.go":        "//go:build linux\n\npackage main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/fn/lib\"\n)\n\nfunc main() { fmt.Println(lib.X) }\n",
		"fn/lib/lib.go":     "package lib\n\nconst X = 1\n",
		"shared/shared.go":  "package shared\n",
		"fn/node_modules/a": "x",
	}
	tests := []struct {
		name    string
		edit    map[string]string // files written after the key is taken ("" removes)
		changed bool
	}{
		{name: "nothing", changed: false},
		{name: "function body", edit: map[string]string{"fn/main.go": "//go:build linux\n\npackage main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/fn/lib\"\n)\n\nfunc main() { fmt.Println(lib.X, 2) }\n"}, changed: false},
		{name: "constant in a local package", edit: map[string]string{"fn/lib/lib.go": "package lib\n\nconst X = 2\n"}, changed: false},
		{name: "an import added", edit: map[string]string{"fn/main.go": "//go:build linux\n\npackage main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"example.com/fn/lib\"\n)\n\nfunc main() { fmt.Println(lib.X, os.Args) }\n"}, changed: true},
		{name: "build constraint", edit: map[string]string{"fn/main.go": "//go:build darwin\n\npackage main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/fn/lib\"\n)\n\nfunc main() { fmt.Println(lib.X) }\n"}, changed: true},
		{name: "an import in a local package", edit: map[string]string{"fn/lib/lib.go": "package lib\n\nimport _ \"example.com/fn/other\"\n\nconst X = 1\n"}, changed: true},
		{name: "a new Go file", edit: map[string]string{"fn/extra.go": "package main\n"}, changed: true},
		{name: "a new file in a local package", edit: map[string]string{"fn/lib/more.go": "package lib\n"}, changed: true},
		{name: "a file removed", edit: map[string]string{"fn/lib/lib.go": ""}, changed: true},
		{name: "go.mod", edit: map[string]string{"fn/go.mod": "module example.com/fn\n\ngo 1.23\n"}, changed: true},
		{name: "header that does not parse, then an edit", edit: map[string]string{"fn/main.go": "package main\nimport (\n"}, changed: true},
		{name: "a file outside the inputs", edit: map[string]string{"shared/shared.go": "package shared\n\nimport \"os\"\n"}, changed: false},
		{name: "node_modules", edit: map[string]string{"fn/node_modules/b.go": "package b\n"}, changed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeTree(t, base)
			dir := filepath.Join(site, "fn")
			files := []string{filepath.Join(dir, "go.mod"), filepath.Join(dir, "main.go"), filepath.Join(dir, "lib", "lib.go")}
			var c goInputs
			c.remember(dir, files)
			for rel, body := range tt.edit {
				p := filepath.Join(site, filepath.FromSlash(rel))
				if body == "" {
					if err := os.Remove(p); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := c.lookup(dir)
			if ok == tt.changed {
				t.Fatalf("lookup ok = %v, want %v", ok, !tt.changed)
			}
			if ok && len(got) != len(files) {
				t.Errorf("lookup = %v, want %v", got, files)
			}
		})
	}
}
