package nodeboot

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestBootstrap runs the JS tests of the bootstrap, so `go test ./...` covers
// both sides of the protocol.
func TestBootstrap(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	// Reading the files makes them part of the test cache key: a change to
	// the JS re-runs the test instead of replaying a cached pass.
	for _, name := range []string{"bootstrap.mjs", "bootstrap.test.mjs"} {
		if _, err := os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), node, "--test", "bootstrap.test.mjs")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("node --test bootstrap.test.mjs: %v\n%s", err, out.Bytes())
	}
}
