package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store/postgres"
)

// TestAdminPasswordFile: standard output is no terminal here (as under systemd), so the
// first admin's password goes to a file of mode 0600 beside the database, whose path the
// log names, and neither standard output nor the log holds the password.
func TestAdminPasswordFile(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "ciphemic.db")
	file := dbPath + adminPasswordSuffix
	// startServer would read and remove the file: serve by hand to look at it first.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var stdout, stderr lockedBuffer
	go func() {
		defer close(done)
		_ = run(ctx, []string{"ciphemic", "serve", "--database", "sqlite:" + dbPath, "--addr", "127.0.0.1:0", "--log-format", "json"},
			func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stdout.String(), "Listening on"); {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("admin password file: %v, %v; want mode 0600", info, err)
	}
	data, _ := os.ReadFile(file)
	pw := strings.TrimSpace(string(data))
	if len(pw) < 20 {
		t.Fatalf("admin password file holds %q, want a random password", data)
	}
	if strings.Contains(stdout.String(), pw) || strings.Contains(stderr.String(), pw) {
		t.Error("the admin password reached standard output or the log")
	}
	if !strings.Contains(stderr.String(), `"password_file":"`+file+`"`) {
		t.Errorf("log = %q, want the password file's path", stderr.String())
	}
}

// TestAdminPasswordFileRefusals: an old password file is never overwritten (it may be one
// not read yet), and no admin is created whose password went nowhere; on PostgreSQL there
// is no file beside the database, so without a terminal the file must be named.
func TestAdminPasswordFileRefusals(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "ciphemic.db")
	if err := os.WriteFile(dbPath+adminPasswordSuffix, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := runCmdCtx(t, ctx, nil, "", "serve", "--database", "sqlite:"+dbPath, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "--initial-admin-password-file") || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("serve with an old password file = %v, want a refusal naming --initial-admin-password-file", err)
	}
	if data, _ := os.ReadFile(dbPath + adminPasswordSuffix); string(data) != "old\n" {
		t.Errorf("old password file now holds %q, want it untouched", data)
	}
	if n, err := mustOpen(t, dbPath).CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("users after the refusal = %d, %v; want none", n, err)
	}

	dsn := postgres.OpenTestURL(t)
	keyFile := keyWithMode(t, 0o600)
	_, _, err = runCmdCtx(t, ctx, nil, "", "serve", "--database", dsn, "--addr", "127.0.0.1:0", "--signing-key-file", keyFile)
	if err == nil || !strings.Contains(err.Error(), "--initial-admin-password-file") {
		t.Errorf("serve on an empty PostgreSQL database without a terminal = %v, want an error naming --initial-admin-password-file", err)
	}
}
