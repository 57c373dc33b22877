package main

import (
	"strings"
	"testing"
)

// TestChangePassword: `ciphemic changepassword` sets the password a running server then
// accepts, and ends the user's sessions as POST /api/me/password/ does: the refresh token
// from before the change is refused.
func TestChangePassword(t *testing.T) {
	dbPath := migratedDB(t, "c.db")
	db := "sqlite:" + dbPath
	if _, _, err := runCmd(t, nil, "old-Pa55word\n", "createuser", "--database", db, "--username", "teach", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dbPath)
	status, pair := s.post(t, "/api/token/", `{"username":"teach","password":"old-Pa55word"}`, "")
	if status != 200 {
		t.Fatalf("login = %d %v", status, pair)
	}
	out, _, err := runCmd(t, nil, "new-Pa55word\n", "changepassword", "--database", db, "--username", "teach", "--password-stdin")
	if err != nil || !strings.Contains(out, "Changed the password of teach") {
		t.Fatalf("changepassword = %q, %v", out, err)
	}
	if status, _ := s.post(t, "/api/token/refresh/", `{"refresh":"`+pair["refresh"].(string)+`"}`, ""); status != 401 {
		t.Errorf("refresh token from before changepassword = %d, want 401", status)
	}
	if status, _ := s.post(t, "/api/token/", `{"username":"teach","password":"old-Pa55word"}`, ""); status != 401 {
		t.Errorf("login with the old password = %d, want 401", status)
	}
	if status, _ := s.post(t, "/api/token/", `{"username":"teach","password":"new-Pa55word"}`, ""); status != 200 {
		t.Errorf("login with the new password = %d, want 200", status)
	}
	bad := []struct {
		name, stdin, want string
		args              []string
	}{
		{"no username", "new-Pa55word\n", "--username", []string{"--password-stdin"}},
		{"unknown user", "new-Pa55word\n", "--username", []string{"--username", "nobody", "--password-stdin"}},
		{"short password", "abc\n", "password", []string{"--username", "teach", "--password-stdin"}},
		{"no terminal", "", "--password-stdin", []string{"--username", "teach"}},
	}
	for _, tt := range bad {
		_, _, err := runCmd(t, nil, tt.stdin, append([]string{"changepassword", "--database", db}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: changepassword = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}
