package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// fixtureSeeds adds to f every file called name (netlify.toml, .env) of
// the fixture sites and of the sites embedded in the end-to-end scripts,
// so the fuzzers start from the shapes bgfn is tested with.
func fixtureSeeds(f *testing.F, name string) {
	f.Helper()
	sites, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "sites", "*", name))
	for _, p := range sites {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	scripts, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "script", "*.txtar"))
	for _, p := range scripts {
		a, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, file := range a.Files {
			if filepath.Base(file.Name) == name {
				f.Add(file.Data)
			}
		}
	}
}

// tomlSeeds cover every key bgfn reads, wrong types included.
var tomlSeeds = []string{
	"",
	"[build]\nbase = \"app\"\nfunctions = \"fns\"\n[build.environment]\nA = \"1\"\nB = 2\nC = true\nD = 1.5\n",
	"[dev]\nport = 8888\nfunctionsPort = 9999\nfunctions = \"devfns\"\nenvFiles = [\".env.x\", \".env\"]\n",
	"[functions]\ndirectory = \"f\"\nnode_bundler = \"esbuild\"\nschedule = \"@daily\"\nbackground = true\n" +
		"external_node_modules = [\"a\"]\nincluded_files = [\"x/**\"]\nmemory = 1024\n",
	"[functions.\"api-*\"]\nbackground = false\n[functions.\"{a,b{1,2}}\"]\nschedule = \"* * * * *\"\n[functions.\"!neg\"]\nx = 1\n[functions.\"[bad\"]\n",
	"[functions]\n\"hello\".directory = \"no\"\n",
	"[context.dev]\nbase = \"b\"\nfunctions = \"ctx\"\n[context.dev.environment]\nK = \"s3cret\"\n[context.production.functions]\nnode_bundler = \"zisi\"\n",
	"[context]\ndev = 1\n",
	"functions = 3\n",
	"[build.environment]\nK = s3cret\n",
	"[dev]\nport = 70000\n",
	"[dev]\nport = \"8888\"\n",
	"[[functions]]\nname = \"x\"\n",
	"[redirects]\nfrom = \"/a\"\n[[plugins]]\npackage = \"p\"\n[unknown.deep]\nkey = 1\n",
}

// FuzzNetlifyTOML: decoding never panics, fails only with a one-line
// *ParseError whose position is inside the file, and gives the same result
// every time (warnings come in file order, not map order).
func FuzzNetlifyTOML(f *testing.F) {
	fixtureSeeds(f, "netlify.toml")
	for _, s := range tomlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fc, err := decodeNetlifyTOML("netlify.toml", data, "dev")
		if err != nil {
			checkParseError(t, err, data)
			return
		}
		for _, w := range fc.warnings {
			if !strings.HasPrefix(w, "netlify.toml: ") || strings.ContainsAny(w, "\r\n") {
				t.Errorf("warning %q is not one line naming the file", w)
			}
		}
		again, err := decodeNetlifyTOML("netlify.toml", data, "dev")
		if err != nil {
			t.Fatalf("second decode failed: %v", err)
		}
		if !slices.Equal(fc.warnings, again.warnings) {
			t.Errorf("warnings differ between two decodes:\n%q\n%q", fc.warnings, again.warnings)
		}
		// Matching patterns must not panic whatever the key.
		for _, p := range fc.functions.Patterns {
			fc.functions.For(p.Pattern)
		}
	})
}

// checkParseError asserts that err is a *ParseError of one line whose line
// number is within data.
func checkParseError(t *testing.T, err error, data []byte) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("error %q is not one line", err.Error())
	}
	lines := strings.Count(string(data), "\n") + 1
	if pe.Line < 0 || pe.Line > lines {
		t.Errorf("error %q: line %d outside the file's %d lines", err, pe.Line, lines)
	}
}

// dotenvMessages are every error parseDotEnv gives: fixed texts, so no
// error can quote a value, which may be a secret.
var dotenvMessages = []string{"expected KEY=value", "unexpected text after closing quote", "unterminated quoted value"}

// FuzzDotEnv: parsing never panics; errors are a fixed message at a line
// of the file; every key is valid; and writing what was read back as
// double-quoted values reads the same again.
func FuzzDotEnv(f *testing.F) {
	fixtureSeeds(f, ".env")
	fixtureSeeds(f, "new.env")
	for _, s := range []string{
		"", "A=1\nB=two\n", "\ufeffA=1\r\nexport B='x y'\n", "A=\"l1\\nl2\\t\\\"q\\\" \\\\ \\$x\"\n",
		"KEY=\"-----BEGIN-----\nabc\\n\n-----END-----\"\nNEXT=1\n", "A=`it's`\n", "A=v # c\nB=#\n",
		"A='unterminated\n", "A='x'y\n", "MY KEY=1\n", "export\n", "A=\"a\\\"b\" # c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := parseDotEnv(".env", data)
		if err != nil {
			checkParseError(t, err, data)
			var pe *ParseError
			errors.As(err, &pe)
			if pe.Line < 1 || !slices.Contains(dotenvMessages, pe.Msg) {
				t.Errorf("error %+v: want line >= 1 and one of %q", pe, dotenvMessages)
			}
			return
		}
		var b strings.Builder
		for _, v := range vars {
			if !validEnvKey(v.Key) {
				t.Errorf("key %q is not a valid name", v.Key)
			}
			b.WriteString(v.Key + "=" + quoteDouble(v.Value) + "\n")
		}
		back, err := parseDotEnv(".env", []byte(b.String()))
		if err != nil {
			t.Fatalf("re-reading %q: %v", b.String(), err)
		}
		if !slices.Equal(back, vars) {
			t.Errorf("round trip through %q:\n got %q\nwant %q", b.String(), back, vars)
		}
	})
}

// quoteDouble writes s as a double-quoted .env value.
func quoteDouble(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}
