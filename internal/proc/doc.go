// Package proc starts and stops worker subprocesses. Every worker gets its
// own process group, so stopping it also stops whatever it spawned: stop
// sends SIGTERM to the group, waits a grace period, then sends SIGKILL to the
// group. Nothing bgfn starts may outlive it.
package proc
