//go:build unix

package main

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestServeReloadsOnSIGHUP: with polling off, a real SIGHUP makes a running server load
// a rotated key.
func TestServeReloadsOnSIGHUP(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "EdDSA", "--out", file)
	s := startServer(t, "", "--algorithm", "EdDSA", "--signing-key-file", file, "--key-reload-interval", "0")
	kid0 := mustLoadKeySet(t, file).Current().ID
	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file)
	kid1 := mustLoadKeySet(t, file).Current().ID
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitForKIDs(t, s, kid1, kid0)
}
