package nodeboot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Write writes Source to dir/nodeboot under a name that carries its hash,
// so workers of another bgfn version running from the same folder are not
// disturbed, and returns its path. A file already there is reused.
func Write(dir string) (string, error) {
	sum := sha256.Sum256(Source)
	p := filepath.Join(dir, "nodeboot", "bootstrap-"+hex.EncodeToString(sum[:6])+".mjs")
	if b, err := os.ReadFile(p); err == nil && string(b) == string(Source) {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("write node bootstrap: %w", err)
	}
	tmp := p + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, Source, 0o644); err != nil {
		return "", fmt.Errorf("write node bootstrap: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("write node bootstrap: %w", err)
	}
	return p, nil
}
