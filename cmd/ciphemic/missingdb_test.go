package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/store/postgres"
)

// commandsThatMustNotCreate are every command but serve and migrate, with what each needs
// besides --database to reach the store.
var commandsThatMustNotCreate = []struct {
	stdin string
	args  []string
}{
	{"s3cret-pass\n", []string{"createuser", "--username", "x", "--password-stdin"}},
	{"s3cret-pass\n", []string{"changepassword", "--username", "admin", "--password-stdin"}},
	{"", []string{"flushexpiredtokens"}},
	{"", []string{"import-users", "--django", djangoFixture}},
}

// TestCommandsRefuseMissingDatabase: a typo in --database, or a command run from another
// directory, is refused in one line naming --database, and no database is created: before,
// flushexpiredtokens "deleted 0 tokens" from a new empty file and createuser filled one no
// server reads.
func TestCommandsRefuseMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range commandsThatMustNotCreate {
		for _, db := range []string{filepath.Join(dir, "nothere.db"), empty} {
			args := append([]string{c.args[0], "--database", "sqlite:" + db}, c.args[1:]...)
			stdout, _, err := runCmd(t, nil, c.stdin, args...)
			if err == nil || !strings.Contains(err.Error(), "--database") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v = %q, %v; want one line naming --database", args, stdout, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "nothere.db")); err == nil {
			t.Fatalf("%s created the missing database", c.args[0])
		}
	}
	entries, _ := os.ReadDir(dir)
	if info, err := os.Stat(empty); len(entries) != 1 || err != nil || info.Size() != 0 {
		t.Errorf("the commands left %d files and an empty.db of %v, %v; want the empty file alone and untouched", len(entries), info.Size(), err)
	}
}

// TestCommandsRefuseEmptyPostgres: on PostgreSQL, where the database itself always exists,
// an empty one (no ciphemic schema) is refused, and asking leaves it empty.
func TestCommandsRefuseEmptyPostgres(t *testing.T) {
	dsn := postgres.OpenTestURL(t)
	for _, c := range commandsThatMustNotCreate {
		args := append([]string{c.args[0], "--database", dsn}, c.args[1:]...)
		if _, _, err := runCmd(t, nil, c.stdin, args...); err == nil || !strings.Contains(err.Error(), "--database") ||
			strings.Contains(err.Error(), "postgres://") {
			t.Errorf("%s on an empty PostgreSQL database: %v; want an error naming --database and not the URL", c.args[0], err)
		}
	}
	out, _, err := runCmd(t, nil, "", "migrate", "--database", dsn)
	if err != nil || !strings.Contains(out, "0001_init.sql") {
		t.Errorf("migrate after the refusals = %q, %v; want every migration applied (the refusals created nothing)", out, err)
	}
}
