package site

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// State is what a running `bgfn dev` writes to .netlify/bgfn/dev.json, so
// other commands (and tests) can find it.
type State struct {
	URL       string    `json:"url"`
	PID       int       `json:"pid"`
	Site      string    `json:"site"`
	StartedAt time.Time `json:"startedAt"`
	// Token is what /.bgfn/ asks for when bgfn dev listens beyond
	// loopback (--host); bgfn's commands send it.
	Token string `json:"token,omitempty"`
}

// StatePath is where the state file of the site whose base folder is
// baseDir lives.
func StatePath(baseDir string) string { return filepath.Join(OutDir(baseDir), "dev.json") }

// ReadState reads the state file of the site whose base folder is baseDir.
func ReadState(baseDir string) (State, error) {
	var st State
	b, err := os.ReadFile(StatePath(baseDir))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("read %s: %w", StatePath(baseDir), err)
	}
	return st, nil
}

// WriteState writes the state file, through a temporary file and a
// rename, so a reader never sees half of it.
func WriteState(baseDir string, st State) error {
	p := StatePath(baseDir)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp"
	mode := os.FileMode(0o644)
	if st.Token != "" {
		mode = 0o600 // the token opens the runs page and API
	}
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// RemoveState removes the state file.
func RemoveState(baseDir string) { os.Remove(StatePath(baseDir)) }
