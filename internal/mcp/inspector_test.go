//go:build linux

package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The MCP Inspector's CLI (@modelcontextprotocol/inspector-cli, a client
// bgfn did not write, on the TypeScript SDK) lists bgfn's tools over stdio
// and over Streamable HTTP, and calls one. It is installed from the npm
// registry by `npm ci` from the committed package.json and
// package-lock.json in testdata/inspector. The test never skips: without
// node and npm, or without the registry on a fresh machine, it fails and
// says why.

var toolNames = []string{
	"blobs_delete", "blobs_get", "blobs_list", "blobs_set", "cancel_invocation", "get_config", "get_invocation", "invoke_function",
	"list_functions", "list_invocations", "replay_invocation", "tail_logs", "trigger_event", "wait_invocation",
}

// inspectorCLI installs the fixture's packages unless node_modules holds
// the locked version, and returns the fixture folder.
func inspectorCLI(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the MCP Inspector test needs Node.js and npm (install Node.js >= 20)", tool)
		}
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "inspector"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	const pkg = "@modelcontextprotocol/inspector-cli"
	want := lock.Packages["node_modules/"+pkg].Version
	if want == "" {
		t.Fatalf("%s/package-lock.json does not lock %s", dir, pkg)
	}
	var installed struct {
		Version string `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json")); err == nil {
		json.Unmarshal(b, &installed)
	}
	if installed.Version != want {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s (installing %s %s from the npm registry) failed: %v\n%s", dir, pkg, want, err, out)
		}
	}
	return dir
}

// inspect runs the Inspector's CLI mode with args and decodes its JSON.
func inspect(t *testing.T, dir string, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cli := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector-cli", "build", "cli.js")
	cmd := exec.CommandContext(ctx, "node", append([]string{cli, "--cli"}, args...)...)
	// inspector-cli 1.0.3 finds its own package.json by testing
	// "../package.json" against the working folder but importing it
	// relative to its module: from a folder whose parent has a
	// package.json, both resolve.
	cmd.Dir = filepath.Join(dir, "node_modules")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mcp-inspector-cli %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("mcp-inspector-cli %v printed no JSON: %v\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
}

type inspectorTools struct {
	Tools []struct {
		Name         string         `json:"name"`
		Description  string         `json:"description"`
		InputSchema  map[string]any `json:"inputSchema"`
		OutputSchema map[string]any `json:"outputSchema"`
	} `json:"tools"`
}

func (it inspectorTools) names() []string {
	var out []string
	for _, tl := range it.Tools {
		out = append(out, tl.Name)
	}
	slices.Sort(out)
	return out
}

func TestInspectorCLI(t *testing.T) {
	dir := inspectorCLI(t)
	siteDir := copySite(t, "mcp")

	t.Run("stdio", func(t *testing.T) {
		var tools inspectorTools
		inspect(t, dir, &tools, bgfnBin, "mcp", "--dir", siteDir, "--method", "tools/list")
		if got := tools.names(); !slices.Equal(got, toolNames) {
			t.Fatalf("tools over stdio: %v, want %v", got, toolNames)
		}
		for _, tl := range tools.Tools {
			if tl.Description == "" || tl.InputSchema["type"] != "object" || tl.OutputSchema["type"] != "object" {
				t.Errorf("%s: description %q, input schema %v, output schema %v", tl.Name, tl.Description, tl.InputSchema["type"], tl.OutputSchema["type"])
			}
		}
	})

	t.Run("http", func(t *testing.T) {
		dev := startDev(t, siteDir)
		var tools inspectorTools
		inspect(t, dir, &tools, dev.url+Path, "--transport", "http", "--method", "tools/list")
		if got := tools.names(); !slices.Equal(got, toolNames) {
			t.Fatalf("tools over HTTP: %v, want %v", got, toolNames)
		}
		var res struct {
			IsError           bool             `json:"isError"`
			StructuredContent listFunctionsOut `json:"structuredContent"`
		}
		inspect(t, dir, &res, dev.url+Path, "--transport", "http", "--method", "tools/call", "--tool-name", "list_functions")
		if res.IsError || len(res.StructuredContent.Functions) != 7 || res.StructuredContent.Server != dev.url {
			t.Fatalf("list_functions through the Inspector: %+v", res)
		}
	})
}
