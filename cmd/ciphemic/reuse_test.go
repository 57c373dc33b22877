package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRefreshReuseGraceBad: the grace window may be neither negative nor longer than an
// access token lives, from the flag or from CIPHEMIC_REFRESH_REUSE_GRACE.
func TestRefreshReuseGraceBad(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"negative", nil, []string{"--refresh-reuse-grace", "-1s"}},
		{"longer than the access lifetime", nil, []string{"--access-token-lifetime", "1m", "--refresh-reuse-grace", "61s"}},
		{"env over the default lifetime", map[string]string{"CIPHEMIC_REFRESH_REUSE_GRACE": "6m"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--database", db, "--addr", "127.0.0.1:0"}, tt.args...)
			stdout, _, err := runCmd(t, tt.env, "", args...)
			if err == nil || !strings.Contains(err.Error(), "--refresh-reuse-grace") || strings.Contains(err.Error(), "\n") {
				t.Errorf("serve %v = %v, want one line naming --refresh-reuse-grace", tt.args, err)
			}
			if strings.Contains(stdout, "Listening") {
				t.Errorf("serve listened despite a bad setting")
			}
		})
	}
}

// TestRefreshReuseGraceServed: serve hands the window to the API, so that replaying the
// token just rotated gets the same successor instead of a revoked session.
func TestRefreshReuseGraceServed(t *testing.T) {
	s := startServer(t, "", "--refresh-reuse-grace", "1m")
	status, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	if status != 200 {
		t.Fatalf("login = %d %v, want 200", status, pair)
	}
	refresh := pair["refresh"].(string)
	status, first := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, "")
	if status != 200 {
		t.Fatalf("refresh = %d %v, want 200", status, first)
	}
	status, again := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, "")
	if status != 200 || again["refresh"] != first["refresh"] {
		t.Fatalf("replay within --refresh-reuse-grace = %d %v, want 200 with the same successor (HS256 signs it identically)", status, again)
	}
	if status, _ := s.get(t, "/api/me/", first["access"].(string)); status != 200 {
		t.Errorf("access of the first refresh after a replay in the window = %d, want 200", status)
	}
}
