//go:build !linux

package proc

import "os/exec"

// Start starts cmd (already Setup). Only Linux has a parent-death signal;
// elsewhere a Node worker exits when its request pipe closes, and an
// aws-lambda-go worker when its Runtime API connection drops.
func Start(cmd *exec.Cmd) error { return cmd.Start() }
