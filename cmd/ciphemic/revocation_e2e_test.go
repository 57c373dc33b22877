package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestRevocationReachesOtherInstance runs two serve processes' worth of ciphemic (two run()
// calls) on one SQLite file: revoke-all on one stops the access token on the other within
// the sync bound (500 ms polling; checked loosely here, since a loaded CI machine may be
// slow to schedule — the exact bound is tested with an injected clock in internal/token).
func TestRevocationReachesOtherInstance(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := startServer(t, dbPath)
	b := startServer(t, dbPath)
	_, pair := a.post(t, "/api/token/", `{"username":"admin","password":"`+a.adminPW+`"}`, "")
	access, ok := pair["access"].(string)
	if !ok {
		t.Fatalf("login failed: %v", pair)
	}
	if status, _ := b.get(t, "/api/me/", access); status != 200 {
		t.Fatalf("instance B before revoke-all = %d, want 200", status)
	}
	if status, _ := a.post(t, "/api/token/revoke-all/", `{}`, access); status != 200 {
		t.Fatalf("revoke-all = %d, want 200", status)
	}
	start := time.Now()
	for {
		status, _ := b.get(t, "/api/me/", access)
		if status == 401 {
			t.Logf("instance B refused the revoked token after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("instance B still accepts a revoked token after %v", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
