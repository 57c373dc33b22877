package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateUserPasswordValidation: createuser refuses a password Django's validators
// refuse, each message on its own line of standard error, and exits non-zero;
// --skip-password-validation creates the user anyway, with a warning.
func TestCreateUserPasswordValidation(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	if _, _, err := runCmd(t, nil, "", "migrate", "--database", db); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pw   string
		args []string
		want []string
	}{
		{"password123", nil, []string{"This password is too common."}},
		{"qwertyui", nil, []string{"This password is too common."}},
		{"80417395", nil, []string{"This password is entirely numeric."}},
		{"lavoisier2024", []string{"--email", "quentin.lavoisier@example.com"}, []string{"The password is too similar to the email address."}},
		{"nq2x-Lv7p", []string{"--password-min-length", "12"}, []string{"This password is too short. It must contain at least 12 characters."}},
	}
	for _, tt := range tests {
		args := append([]string{"createuser", "--database", db, "--username", "quentin", "--password-stdin"}, tt.args...)
		out, stderr, err := runCmd(t, nil, tt.pw+"\n", args...)
		if !errors.Is(err, errUsage) {
			t.Errorf("createuser with %q = %q, %v; want a usage error (exit 2)", tt.pw, out, err)
		}
		if got := strings.Split(strings.TrimSpace(stderr), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("createuser with %q: stderr = %q, want the lines %q", tt.pw, stderr, tt.want)
		}
	}
	env := map[string]string{"CIPHEMIC_PASSWORD_MIN_LENGTH": "12"}
	if _, _, err := runCmd(t, env, "nq2x-Lv7p\n", "createuser", "--database", db, "--username", "quentin", "--password-stdin"); err == nil {
		t.Error("createuser with CIPHEMIC_PASSWORD_MIN_LENGTH=12 and 9 characters succeeded")
	}
	out, stderr, err := runCmd(t, nil, "password\n", "createuser", "--database", db, "--username", "testuser", "--password-stdin", "--skip-password-validation")
	if err != nil || !strings.Contains(out, "Created user testuser") {
		t.Fatalf("createuser --skip-password-validation = %q, %v; want the user created", out, err)
	}
	if !strings.Contains(stderr, "This password is too common.") || !strings.Contains(stderr, "Warning:") {
		t.Errorf("createuser --skip-password-validation: stderr = %q, want the messages and a warning", stderr)
	}
	if _, _, err := runCmd(t, nil, "password\n", "changepassword", "--database", db, "--username", "testuser", "--password-stdin"); err == nil ||
		!strings.Contains(err.Error(), "This password is too common.") {
		t.Errorf("changepassword to a common password = %v, want Django's message", err)
	}
	if _, _, err := runCmd(t, nil, "x\n", "createuser", "--database", db, "--username", "u", "--password-stdin", "--password-min-length", "0"); err == nil ||
		!strings.Contains(err.Error(), "--password-min-length") {
		t.Errorf("--password-min-length 0 = %v, want an error naming the setting", err)
	}
}
