package build

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	// A go.work above the temp dir must not pull the test modules in.
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "")
}

func TestGoBuilder(t *testing.T) {
	needGo(t)
	tests := []struct {
		name  string
		files map[string]string
		dir   string // the function folder, relative to the site
		// for a good build
		wantOut    string
		wantInputs []string
		// for a failed build
		wantFile, marker string
		wantLine         int
	}{
		{
			name: "module in the function folder",
			files: map[string]string{
				"functions/hello/go.mod":          "module example.com/hello\n\ngo 1.22\n",
				"functions/hello/main.go":         "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/hello/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hi(\"go\")) }\n",
				"functions/hello/util.go":         "package main\n\nfunc unused() {}\n",
				"functions/hello/greet/greet.go":  "package greet\n\nfunc Hi(n string) string { return \"hi \" + n }\n",
				"functions/hello/main_test.go":    "package main\n",
				"functions/hello/node_modules/x":  "not go",
				"functions/hello/.hidden/skip.go": "package skip\n",
			},
			dir:     "functions/hello",
			wantOut: "hi go\n",
			wantInputs: []string{
				"functions/hello/go.mod", "functions/hello/main.go", "functions/hello/util.go",
				"functions/hello/main_test.go", "functions/hello/greet/greet.go",
			},
		},
		{
			name: "module at the site root with a shared package",
			files: map[string]string{
				"go.mod":                 "module example.com/site\n\ngo 1.22\n",
				"lib/shout/shout.go":     "package shout\n\nimport \"strings\"\n\nfunc Up(s string) string { return strings.ToUpper(s) }\n",
				"functions/loud/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/site/lib/shout\"\n)\n\nfunc main() { fmt.Println(shout.Up(\"quiet\")) }\n",
				"lib/unused/unused.go":   "package unused\n",
			},
			dir:        "functions/loud",
			wantOut:    "QUIET\n",
			wantInputs: []string{"go.mod", "functions/loud/main.go", "lib/shout/shout.go"},
		},
		{
			name: "built with production's tags",
			files: map[string]string{
				"functions/tagged/go.mod":   "module example.com/tagged\n\ngo 1.22\n",
				"functions/tagged/main.go":  "package main\n\nimport \"fmt\"\n\nvar tag = \"default\"\n\nfunc main() { fmt.Println(tag) }\n",
				"functions/tagged/rpc.go":   "//go:build !lambda.norpc\n\npackage main\n\nvar _ = notBuiltOnNetlify\n",
				"functions/tagged/norpc.go": "//go:build lambda.norpc\n\npackage main\n\nfunc init() { tag = \"lambda.norpc\" }\n",
			},
			dir:     "functions/tagged",
			wantOut: "lambda.norpc\n",
		},
		{
			name: "compile error",
			files: map[string]string{
				"functions/broken/go.mod":  "module example.com/broken\n\ngo 1.22\n",
				"functions/broken/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(nope)\n}\n",
			},
			dir:        "functions/broken",
			wantFile:   "functions/broken/main.go",
			wantLine:   6,
			marker:     "nope",
			wantInputs: []string{"functions/broken/go.mod", "functions/broken/main.go"},
		},
		{
			name: "unused variable",
			files: map[string]string{
				"functions/unused/go.mod":  "module example.com/unused\n\ngo 1.22\n",
				"functions/unused/main.go": "package main\n\nfunc main() {\n\tx := 1\n}\n",
			},
			dir:      "functions/unused",
			wantFile: "functions/unused/main.go",
			wantLine: 4,
			marker:   "x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeTree(t, tt.files)
			b := &GoBuilder{SiteDir: site, OutDir: filepath.Join(site, ".netlify", "bgfn", "go")}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			dir := filepath.Join(site, filepath.FromSlash(tt.dir))
			art := b.Build(ctx, "fn", dir)
			for _, in := range tt.wantInputs {
				if p := filepath.Join(site, filepath.FromSlash(in)); !slices.Contains(art.Inputs, p) {
					t.Errorf("Inputs lack %s: %v", in, art.Inputs)
				}
			}
			for _, in := range art.Inputs {
				if strings.Contains(in, "node_modules") || strings.Contains(in, ".hidden") || strings.Contains(in, "unused.go") {
					t.Errorf("Inputs include %s", in)
				}
			}
			if tt.wantFile != "" {
				if art.Err == nil {
					t.Fatalf("Build succeeded, want an error at %s:%d", tt.wantFile, tt.wantLine)
				}
				if art.Entry != "" {
					t.Errorf("a failed build has Entry %q", art.Entry)
				}
				m := art.Err.Messages[0]
				srcLine := strings.Split(tt.files[tt.wantFile], "\n")[tt.wantLine-1]
				wantCol := strings.Index(srcLine, tt.marker) + 1
				if m.File != tt.wantFile || m.Line != tt.wantLine || m.Col != wantCol {
					t.Errorf("position %s:%d:%d, want %s:%d:%d (%s)", m.File, m.Line, m.Col, tt.wantFile, tt.wantLine, wantCol, art.Err)
				}
				if m.Source != srcLine {
					t.Errorf("Source = %q, want %q", m.Source, srcLine)
				}
				if !strings.Contains(art.Err.Detail(), "^") {
					t.Errorf("Detail() has no caret:\n%s", art.Err.Detail())
				}
				for _, m := range art.Err.Messages {
					if strings.HasPrefix(m.Text, "# ") {
						t.Errorf("the package header line became a message: %q", m.Text)
					}
				}
				return
			}
			if art.Err != nil {
				t.Fatalf("Build: %v", art.Err.Detail())
			}
			if !strings.HasPrefix(art.Entry, filepath.Join(b.OutDir, "fn", "bootstrap-")) {
				t.Errorf("Entry = %s, want a bootstrap-* file in %s", art.Entry, filepath.Join(b.OutDir, "fn"))
			}
			out, err := exec.CommandContext(ctx, art.Entry).Output()
			if err != nil {
				t.Fatalf("run %s: %v", art.Entry, err)
			}
			if string(out) != tt.wantOut {
				t.Errorf("binary printed %q, want %q", out, tt.wantOut)
			}
			if runtime.GOOS == "linux" {
				f, err := elf.Open(art.Entry)
				if err != nil {
					t.Fatalf("read %s: %v", art.Entry, err)
				}
				defer f.Close()
				for _, sec := range []string{".symtab", ".debug_info"} {
					if f.Section(sec) != nil {
						t.Errorf("the binary has %s: it was not linked with -s -w", sec)
					}
				}
			}
		})
	}
}

func TestGoBuilderNoGo(t *testing.T) {
	site := writeTree(t, map[string]string{"fn/main.go": "package main\n"})
	b := &GoBuilder{SiteDir: site, OutDir: filepath.Join(site, "out"), Go: filepath.Join(site, "no-such-go")}
	art := b.Build(t.Context(), "fn", filepath.Join(site, "fn"))
	if art.Err == nil || !strings.Contains(art.Err.Error(), "go not found") {
		t.Fatalf("Err = %v, want go not found", art.Err)
	}
	if art.Err.Messages[0].File != "fn" {
		t.Errorf("File = %q, want the function folder", art.Err.Messages[0].File)
	}
	if !slices.Contains(art.Inputs, filepath.Join(site, "fn", "main.go")) {
		t.Errorf("Inputs = %v, want main.go so installing Go and saving retries", art.Inputs)
	}
}

func TestCleanOld(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		keep  string
		want  []string
	}{
		{
			name:  "keeps the current and two newest",
			files: []string{"bootstrap-a1", "bootstrap-a2", "bootstrap-a3", "bootstrap-a4", "bootstrap-a5", "other"},
			keep:  "bootstrap-a3",
			want:  []string{"bootstrap-a3", "bootstrap-a4", "bootstrap-a5", "other"},
		},
		{
			name:  "few",
			files: []string{"bootstrap-a1", "bootstrap-a2"},
			keep:  "bootstrap-a2",
			want:  []string{"bootstrap-a1", "bootstrap-a2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cleanOld(dir, tt.keep)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("left %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGoBuilderRebuildNamesDiffer(t *testing.T) {
	// Each build writes a new file, so a worker running the old binary
	// keeps it while the new one is used for new workers.
	needGo(t)
	site := writeTree(t, map[string]string{
		"fn/go.mod":  "module example.com/fn\n\ngo 1.22\n",
		"fn/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Print(\"one\") }\n",
	})
	b := &GoBuilder{SiteDir: site, OutDir: filepath.Join(site, "out")}
	first := b.Build(t.Context(), "fn", filepath.Join(site, "fn"))
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	if err := os.WriteFile(filepath.Join(site, "fn", "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Print(\"two\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := b.Build(t.Context(), "fn", filepath.Join(site, "fn"))
	if second.Err != nil {
		t.Fatal(second.Err)
	}
	if first.Entry == second.Entry {
		t.Fatalf("both builds wrote %s", first.Entry)
	}
	for _, c := range []struct{ bin, want string }{{first.Entry, "one"}, {second.Entry, "two"}} {
		var out bytes.Buffer
		cmd := exec.CommandContext(t.Context(), c.bin)
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("run %s: %v", c.bin, err)
		}
		if out.String() != c.want {
			t.Errorf("%s printed %q, want %q", c.bin, out.String(), c.want)
		}
	}
}

func TestGoModuleWarnings(t *testing.T) {
	tests := []struct {
		name  string
		gomod string
		want  string // substring of the warning; "" for none
		line  int
	}{
		{"old, single require", "module m\n\ngo 1.21\n\nrequire github.com/aws/aws-lambda-go v1.17.0\n", "aws-lambda-go v1.17.0 speaks only the retired go1.x RPC protocol", 5},
		{"old, require block", "module m\n\nrequire (\n\tgithub.com/x/y v1.0.0\n\tgithub.com/aws/aws-lambda-go v1.6.0 // indirect\n)\n", "v1.6.0", 5},
		{"v1.18 is fine", "module m\nrequire github.com/aws/aws-lambda-go v1.18.0\n", "", 0},
		{"current", "module m\nrequire github.com/aws/aws-lambda-go v1.55.1\n", "", 0},
		{"replaced", "module m\nrequire github.com/aws/aws-lambda-go v1.17.0\nreplace github.com/aws/aws-lambda-go => ../fork\n", "", 0},
		{"not used", "module m\nrequire github.com/x/y v1.0.0\n", "", 0},
		{"pseudo-version of an old commit", "module m\nrequire github.com/aws/aws-lambda-go v1.13.4-0.20200101000000-abcdef123456\n", "v1.13.4-0.2020", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := writeTree(t, map[string]string{"functions/fn/go.mod": tt.gomod, "functions/fn/main.go": "package main\nfunc main() {}\n"})
			got := GoModuleWarnings(site, filepath.Join(site, "functions", "fn"))
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("warnings = %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0].Text, tt.want) || got[0].File != "functions/fn/go.mod" || got[0].Line != tt.line ||
				!strings.Contains(got[0].Text, "go get github.com/aws/aws-lambda-go@latest") {
				t.Errorf("warnings = %+v, want one at functions/fn/go.mod:%d containing %q", got, tt.line, tt.want)
			}
		})
	}
	// A go.mod above the function's folder governs it too.
	site := writeTree(t, map[string]string{"go.mod": "module m\nrequire github.com/aws/aws-lambda-go v1.2.0\n", "functions/fn/main.go": "package main\n"})
	if got := GoModuleWarnings(site, filepath.Join(site, "functions", "fn")); len(got) != 1 || got[0].File != "go.mod" {
		t.Errorf("module at the site root: %+v", got)
	}
}

func TestGoBuildFlags(t *testing.T) {
	base := []string{"PATH=/usr/bin", "HOME=/h"}
	tests := []struct {
		name      string
		environ   []string
		wantFlags []string
		wantCgo   string // the CGO_ENABLED the build sees
	}{
		{"production's flags", base, []string{"-ldflags", "-s -w", "-tags", "lambda.norpc"}, "0"},
		{"user's ldflags win", append(base, "GOFLAGS=-mod=mod -ldflags=-X=main.v=1"), []string{"-tags", "lambda.norpc"}, "0"},
		{"user's tags win", append(base, "GOFLAGS=--tags=integration"), []string{"-ldflags", "-s -w"}, "0"},
		{"a flag that only starts alike", append(base, "GOFLAGS=-tagsx -ldflagsy"), []string{"-ldflags", "-s -w", "-tags", "lambda.norpc"}, "0"},
		{"user's cgo wins", append(base, "CGO_ENABLED=1"), []string{"-ldflags", "-s -w", "-tags", "lambda.norpc"}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := append([]string(nil), tt.environ...)
			flags, env := goBuildFlags(environ)
			if !slices.Equal(flags, tt.wantFlags) {
				t.Errorf("flags = %q, want %q", flags, tt.wantFlags)
			}
			cgo := ""
			for _, kv := range env {
				if v, ok := strings.CutPrefix(kv, "CGO_ENABLED="); ok {
					if cgo != "" {
						t.Errorf("CGO_ENABLED twice in %q", env)
					}
					cgo = v
				}
			}
			if cgo != tt.wantCgo {
				t.Errorf("CGO_ENABLED = %q, want %q", cgo, tt.wantCgo)
			}
			if !slices.Equal(environ, tt.environ) {
				t.Errorf("the caller's environment changed: %q", environ)
			}
		})
	}
}
