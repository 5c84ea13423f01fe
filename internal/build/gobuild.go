package build

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GoBuilder builds Go functions with the user's own toolchain and build
// cache, in the function folder's own module, so a Go function builds here
// as it would with `go build` in its folder.
type GoBuilder struct {
	// SiteDir makes diagnostics relative.
	SiteDir string
	// OutDir is where binaries go (.netlify/bgfn/go).
	OutDir string
	// Go is the go command; "" means "go" on PATH.
	Go string

	known goInputs
}

// goDiag matches a compiler diagnostic: "./main.go:12:3: undefined: x".
var goDiag = regexp.MustCompile(`^(.+?\.go):(\d+)(?::(\d+))?: (.*)$`)

// Build compiles the Go function in dir (absolute) into OutDir/name/bootstrap.
func (b *GoBuilder) Build(ctx context.Context, name, dir string) Artifact {
	start := time.Now()
	goCmd := b.Go
	if goCmd == "" {
		goCmd = "go"
	}
	if _, err := exec.LookPath(goCmd); err != nil {
		inputs, _ := b.inputs(ctx, goCmd, dir)
		return Artifact{Duration: time.Since(start), Inputs: inputs, Err: &Error{Function: name, Messages: []Message{{
			File: rel(b.SiteDir, dir), Text: "go not found on PATH: install Go (https://go.dev/dl) to run Go functions",
		}}}}
	}
	outDir := filepath.Join(b.OutDir, name)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Artifact{Err: &Error{Function: name, Messages: []Message{{Text: "create " + outDir + ": " + err.Error()}}}}
	}
	// A fresh name per build: a running worker keeps its binary, and the
	// swap to the new one is atomic.
	out := filepath.Join(outDir, "bootstrap-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	flags, env := goBuildFlags(os.Environ())
	cmd := exec.CommandContext(ctx, goCmd, append(append([]string{"build", "-o", out}, flags...), ".")...)
	cmd.Dir = dir
	cmd.Env = env
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	// Listing the inputs (go list -deps) takes ~100 ms of CPU: a rebuild
	// that changed no file's imports reuses the last list, and otherwise
	// the list is made while the compiler runs rather than after.
	inputs := make(chan []string, 1)
	if files, ok := b.known.lookup(dir); ok {
		inputs <- files
	} else {
		go func() {
			files, listed := b.inputs(ctx, goCmd, dir)
			if listed {
				b.known.remember(dir, files)
			}
			inputs <- files
		}()
	}
	err := cmd.Run()
	art := Artifact{Entry: out, Duration: time.Since(start), Inputs: <-inputs, Warnings: GoModuleWarnings(b.SiteDir, dir)}
	if err != nil {
		art.Entry = ""
		art.Err = b.convert(name, dir, output.String(), err)
		return art
	}
	cleanOld(outDir, filepath.Base(out))
	return art
}

// goBuildFlags returns the build flags and the environment of a function's
// go build and go list. It builds as Netlify's own build does
// (zip-it-and-ship-it): no symbol table or DWARF (-ldflags "-s -w"), only
// the Runtime API client of aws-lambda-go (-tags lambda.norpc) and no cgo
// (CGO_ENABLED=0). So a function that needs cgo fails here as it would on
// deploy, and the link, most of a rebuild, takes about half as long.
// Whatever the user sets in GOFLAGS or CGO_ENABLED wins over these.
func goBuildFlags(environ []string) (flags, env []string) {
	goflags, cgoSet := "", false
	for _, kv := range environ {
		switch {
		case strings.HasPrefix(kv, "GOFLAGS="):
			goflags = strings.TrimPrefix(kv, "GOFLAGS=")
		case strings.HasPrefix(kv, "CGO_ENABLED="):
			cgoSet = true
		}
	}
	if !hasGoFlag(goflags, "ldflags") {
		flags = append(flags, "-ldflags", "-s -w")
	}
	if !hasGoFlag(goflags, "tags") {
		flags = append(flags, "-tags", "lambda.norpc")
	}
	env = environ
	if !cgoSet {
		env = append(environ[:len(environ):len(environ)], "CGO_ENABLED=0")
	}
	return flags, env
}

// hasGoFlag reports whether GOFLAGS (space-separated flags) sets the
// build flag name, as -name=v or --name=v.
func hasGoFlag(goflags, name string) bool {
	for _, f := range strings.Fields(goflags) {
		f = strings.TrimLeft(f, "-")
		if f == name || strings.HasPrefix(f, name+"=") {
			return true
		}
	}
	return false
}

// cleanOld removes binaries of earlier builds, keeping the newest few in
// case workers of the previous build still run them.
func cleanOld(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var old []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "bootstrap-") && e.Name() != keep {
			old = append(old, e.Name())
		}
	}
	sort.Strings(old)
	if len(old) > 2 {
		for _, n := range old[:len(old)-2] {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

func (b *GoBuilder) convert(name, dir, output string, runErr error) *Error {
	e := &Error{Function: name}
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			continue
		}
		if m := goDiag.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			file := m[1]
			if !filepath.IsAbs(file) {
				file = filepath.Join(dir, file)
			}
			ln, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			msg := Message{File: rel(b.SiteDir, file), Line: ln, Col: col, Text: m[4]}
			msg.Source = sourceLine(file, ln)
			e.Messages = append(e.Messages, msg)
			continue
		}
		if t := strings.TrimSpace(line); t != "" {
			e.Messages = append(e.Messages, Message{Text: t})
		}
	}
	if len(e.Messages) == 0 {
		e.Messages = []Message{{File: rel(b.SiteDir, dir), Text: "go build failed: " + runErr.Error()}}
	}
	return e
}

func sourceLine(file string, n int) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		if i == n {
			return sc.Text()
		}
	}
	return ""
}

// inputs lists the files a rebuild depends on: the function folder's Go
// files, go.mod and go.sum of its module, and the Go files of local
// packages of the same module that it imports. listed is false when `go
// list` could not say which local packages those are.
func (b *GoBuilder) inputs(ctx context.Context, goCmd, dir string) (files []string, listed bool) {
	set := map[string]bool{}
	addGoFiles := func(d string) {
		entries, err := os.ReadDir(d)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".go") || e.Name() == "go.mod" || e.Name() == "go.sum") {
				set[filepath.Join(d, e.Name())] = true
			}
		}
	}
	eachSourceDir(dir, addGoFiles)
	// The module root, and local packages of the module.
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			set[filepath.Join(d, "go.mod")] = true
			set[filepath.Join(d, "go.sum")] = true
			lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			flags, env := goBuildFlags(os.Environ())
			args := append(append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}"}, flags...), ".")
			cmd := exec.CommandContext(lctx, goCmd, args...)
			cmd.Dir = dir
			cmd.Env = env
			if out, err := cmd.Output(); err == nil {
				listed = true
				for _, pd := range strings.Fields(string(out)) {
					if strings.HasPrefix(pd, d+string(filepath.Separator)) || pd == d {
						addGoFiles(pd)
					}
				}
			}
			cancel()
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	files = make([]string, 0, len(set))
	for f := range set {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, listed
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

// lambdaGoModule is the module whose old versions bgfn cannot run.
const lambdaGoModule = "github.com/aws/aws-lambda-go"

// GoModuleWarnings checks the go.mod that governs the Go function in dir
// (absolute) before anything is built: aws-lambda-go before v1.18 (2020)
// serves only the retired go1.x RPC protocol and never asks the Runtime
// API for an invocation, so such a function cannot start. It returns one
// warning naming the file, the version and the fix, or nothing.
func GoModuleWarnings(siteDir, dir string) []Message {
	gomod, data := findGoMod(dir)
	if gomod == "" {
		return nil
	}
	version, line := requiredVersion(data, lambdaGoModule)
	if version == "" || !olderThan(version, 1, 18) {
		return nil
	}
	return []Message{{
		File: rel(siteDir, gomod),
		Line: line,
		Text: lambdaGoModule + " " + version + " speaks only the retired go1.x RPC protocol, which neither Netlify nor bgfn runs: the function will not start. Upgrade it with `go get " + lambdaGoModule + "@latest` in " + rel(siteDir, filepath.Dir(gomod)),
	}}
}

// findGoMod returns the nearest go.mod at or above dir, with its contents.
func findGoMod(dir string) (string, []byte) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "go.mod")
		if data, err := os.ReadFile(p); err == nil {
			return p, data
		}
		if filepath.Dir(d) == d {
			return "", nil
		}
	}
}

// requiredVersion finds module's version in a go.mod's require lines (both
// forms) and its line number; "" when it is not required or is replaced.
func requiredVersion(gomod []byte, module string) (string, int) {
	version, at := "", 0
	inRequire := false
	for i, raw := range strings.Split(string(gomod), "\n") {
		line := strings.TrimSpace(raw)
		if c := strings.Index(line, "//"); c >= 0 {
			line = strings.TrimSpace(line[:c])
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case fields[0] == "require" && len(fields) >= 2 && fields[1] == "(":
			inRequire = true
			continue
		case inRequire && fields[0] == ")":
			inRequire = false
			continue
		case fields[0] == "replace" && len(fields) >= 2 && fields[1] == module:
			return "", 0
		}
		if fields[0] == "require" {
			fields = fields[1:]
		} else if !inRequire {
			continue
		}
		if len(fields) >= 2 && fields[0] == module {
			version, at = fields[1], i+1
		}
	}
	return version, at
}

// olderThan reports whether a "vMAJOR.MINOR.PATCH" version is older than
// major.minor; a version it cannot read is not.
func olderThan(version string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma < major || ma == major && mi < minor
}
