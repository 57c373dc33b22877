package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store/postgres"
)

// runCmd runs the program in-process with env vars and stdin, returning its output.
func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runCmdCtx(t, context.Background(), env, stdin, args...)
}

// runCmdCtx is runCmd until ctx ends.
func runCmdCtx(t *testing.T, ctx context.Context, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(ctx, append([]string{"ciphemic"}, args...),
		func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestBadSettings: a bad setting stops start-up with one line naming it, from a flag or
// from its CIPHEMIC_* variable.
func TestBadSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"algorithm", nil, []string{"--algorithm", "HS1"}, "--algorithm"},
		{"algorithm env", map[string]string{"CIPHEMIC_ALGORITHM": "none"}, nil, "--algorithm"},
		{"lifetime", nil, []string{"--access-token-lifetime", "-5m"}, "--access-token-lifetime"},
		{"lifetime env", map[string]string{"CIPHEMIC_ACCESS_TOKEN_LIFETIME": "five"}, nil, "CIPHEMIC_ACCESS_TOKEN_LIFETIME"},
		{"refresh lifetime", nil, []string{"--refresh-token-lifetime", "0s"}, "--refresh-token-lifetime"},
		{"leeway", nil, []string{"--leeway", "-1s"}, "--leeway"},
		{"database", nil, []string{"--database", "mysql://x"}, "--database"},
		{"memory database", nil, []string{"--database", "sqlite::memory:"}, "--database"},
		{"log format", nil, []string{"--log-format", "xml"}, "--log-format"},
		{"tls half", nil, []string{"--tls-cert-file", "c.pem"}, "--tls-cert-file"},
		{"addr", nil, []string{"--addr", "nope"}, "--addr"},
		{"bool env", map[string]string{"CIPHEMIC_ROTATE_REFRESH_TOKENS": "maybe"}, nil, "CIPHEMIC_ROTATE_REFRESH_TOKENS"},
		{"short secret", nil, []string{"--signing-key-file", writeFile(t, "short")}, "--signing-key-file"},
		{"missing key file", nil, []string{"--signing-key-file", "/nonexistent/key"}, "--signing-key-file"},
		{"unknown flag", nil, []string{"--nope"}, "nope"},
		{"user cache", nil, []string{"--user-cache-size", "-1"}, "--user-cache-size"},
		{"token cache env", map[string]string{"CIPHEMIC_TOKEN_CACHE_SIZE": "-5"}, nil, "--token-cache-size"},
		{"revocation view", nil, []string{"--revocation-view-max", "0"}, "--revocation-view-max"},
		// The exact lines: the setting as the user gave it, the value, the form expected.
		{"duration", nil, []string{"--access-token-lifetime=banana"}, `--access-token-lifetime: "banana" is not a duration (e.g. 5m, 1h30m)`},
		{"duration env", map[string]string{"CIPHEMIC_REFRESH_TOKEN_LIFETIME": "1 day"}, nil, `CIPHEMIC_REFRESH_TOKEN_LIFETIME: "1 day" is not a duration (e.g. 5m, 1h30m)`},
		{"bool", nil, []string{"--rotate-refresh-tokens=maybe"}, `--rotate-refresh-tokens: "maybe" is not true or false`},
		{"bool env exact", map[string]string{"CIPHEMIC_ROTATE_REFRESH_TOKENS": "maybe"}, nil, `CIPHEMIC_ROTATE_REFRESH_TOKENS: "maybe" is not true or false`},
		{"integer", nil, []string{"--max-body-bytes", "1MB"}, `--max-body-bytes: "1MB" is not a whole number`},
		{"integer range", nil, []string{"--max-body-bytes", "99999999999999999999"}, `--max-body-bytes: "99999999999999999999" is out of range`},
		{"proxies", nil, []string{"--trusted-proxies=10.0.0.0/8,notanip"}, `--trusted-proxies: "notanip" is not an IP address or CIDR prefix (e.g. 10.0.0.0/8, 192.0.2.1)`},
		{"database dir", nil, []string{"--database=sqlite:/nonexistent/dir/x.db"}, `invalid --database: directory /nonexistent/dir of sqlite:/nonexistent/dir/x.db does not exist`},
		{"world-readable key", nil, []string{"--signing-key-file", keyWithMode(t, 0o644)}, "must be private to its owner; run chmod 600 "},
		{"group-readable key", nil, []string{"--signing-key-file", keyWithMode(t, 0o640)}, "must be private to its owner; run chmod 600 "},
	})
}

// keyWithMode writes a valid HS256 key file with mode perm.
func keyWithMode(t *testing.T, perm os.FileMode) string {
	t.Helper()
	p := writeFile(t, strings.Repeat("k", 32))
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeyFileModeAccepted: a key file private to its owner, or its ring, starts.
func TestKeyFileModeAccepted(t *testing.T) {
	startServer(t, "", "--signing-key-file", keyWithMode(t, 0o400))
}

// badSetting is a serve command line (flags and environment) that must not start.
type badSetting struct {
	name string
	env  map[string]string
	args []string
	want string // what the one-line error must name
}

// checkBadSettings runs serve on database db with each case and checks that it stops
// before listening, with one line naming the setting.
func checkBadSettings(t *testing.T, db string, tests []badSetting) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--database", db, "--addr", "127.0.0.1:0"}, tt.args...)
			// A setting wrongly accepted would serve until the test timed out.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stdout, _, err := runCmdCtx(t, ctx, tt.env, "", args...)
			if err == nil {
				t.Fatalf("serve %v %v started, want a settings error", tt.args, tt.env)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %s", msg, tt.want)
			}
			// Never a name the user did not give, nor a Go internal message.
			for _, internal := range []string{".key-", ".tmp", "ParseAddr", "parse error", "strconv."} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("error = %q, holds %q", err, internal)
				}
			}
			if strings.Contains(stdout, "Listening") {
				t.Errorf("serve listened despite a bad setting")
			}
		})
	}
}

// TestFlagsWinOverEnvironment: a flag given on the command line beats CIPHEMIC_*.
func TestFlagsWinOverEnvironment(t *testing.T) {
	env := map[string]string{"CIPHEMIC_ALGORITHM": "bogus"}
	_, _, err := runCmd(t, env, "", "keys", "generate", "--algorithm", "ES256", "--out", filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Errorf("flag --algorithm ES256 with CIPHEMIC_ALGORITHM=bogus: %v, want the flag to win", err)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeysGenerate(t *testing.T) {
	dir := t.TempDir()
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"} {
		out := filepath.Join(dir, alg+".key")
		stdout, _, err := runCmd(t, nil, "", "keys", "generate", "--algorithm", alg, "--out", out)
		if err != nil || !strings.Contains(stdout, "kid") {
			t.Errorf("keys generate %s = %q, %v", alg, stdout, err)
			continue
		}
		if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("keys generate %s: file mode %v, %v; want 0600", alg, info.Mode().Perm(), err)
		}
		_, _, err = runCmd(t, nil, "", "keys", "generate", "--algorithm", alg, "--out", out)
		if want := "invalid --out: " + out + " already exists (a key file is never overwritten)"; err == nil || err.Error() != want {
			t.Errorf("keys generate %s over an existing file = %v, want %q", alg, err, want)
		}
	}
	if _, _, err := runCmd(t, nil, "", "keys", "generate", "--algorithm", "none", "--out", filepath.Join(dir, "x")); err == nil {
		t.Error("keys generate --algorithm none succeeded")
	}
	_, _, err := runCmd(t, nil, "", "keys", "generate", "--out", "/nonexistent/dir/k.key")
	if want := "invalid --out: write key file /nonexistent/dir/k.key: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("keys generate into a missing directory = %v, want %q", err, want)
	}
}

func TestCreateUserAndMigrate(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	if out, _, err := runCmd(t, nil, "", "migrate", "--database", db); err != nil || !strings.HasPrefix(out, "Applied ") || !strings.Contains(out, "0001_init.sql, 0002_school.sql") {
		t.Fatalf("migrate on a new database = %q, %v; want the migrations it applied, by name", out, err)
	}
	if out, _, err := runCmd(t, nil, "", "migrate", "--database", db); err != nil || out != "The schema was current: no migrations to apply.\n" {
		t.Fatalf("migrate on a current database = %q, %v; want that the schema was current", out, err)
	}
	out, _, err := runCmd(t, nil, "s3cret-pass\n", "createuser", "--database", db, "--username", "teach", "--role", "teacher", "--password-stdin")
	if err != nil || !strings.Contains(out, "Created user teach") {
		t.Fatalf("createuser = %q, %v", out, err)
	}
	if _, _, err := runCmd(t, nil, "s3cret-pass\n", "createuser", "--database", db, "--username", "teach", "--password-stdin"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate createuser error = %v, want already exists", err)
	}
	// Usernames are stored in NFKC: a full-width look-alike of teach is teach, taken.
	if _, _, err := runCmd(t, nil, "s3cret-pass\n", "createuser", "--database", db, "--username", "ｔeach", "--password-stdin"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("createuser ｔeach error = %v, want already exists", err)
	}
	out, _, err = runCmd(t, nil, "s3cret-pass\n", "createuser", "--database", db, "--username", "ｐupil"+strings.Repeat("e\u0301", 145), "--password-stdin")
	if err != nil || !strings.Contains(out, "Created user pupil"+strings.Repeat("é", 145)+" ") {
		t.Errorf("createuser ｐupil and 145 composed letters = %q, %v; want user pupil… created", out, err)
	}
	bad := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"no username", "s3cret-pass\n", []string{"--password-stdin"}},
		{"long username", "s3cret-pass\n", []string{"--username", strings.Repeat("㍿", 40), "--password-stdin"}},
		{"bad role", "s3cret-pass\n", []string{"--username", "x", "--role", "root", "--password-stdin"}},
		{"empty password", "\n", []string{"--username", "x", "--password-stdin"}},
		{"short password", "abc\n", []string{"--username", "x", "--password-stdin"}},
		{"no terminal", "", []string{"--username", "x"}},
	}
	for _, tt := range bad {
		if _, _, err := runCmd(t, nil, tt.stdin, append([]string{"createuser", "--database", db}, tt.args...)...); err == nil {
			t.Errorf("%s: createuser succeeded, want an error", tt.name)
		}
	}
	if out, _, err := runCmd(t, nil, "", "flushexpiredtokens", "--database", db); err != nil || !strings.Contains(out, "Deleted 0") {
		t.Errorf("flushexpiredtokens = %q, %v", out, err)
	}
}

func TestUsage(t *testing.T) {
	if _, _, err := runCmd(t, nil, ""); err == nil {
		t.Error("no command: want a usage error")
	}
	if _, _, err := runCmd(t, nil, "", "frobnicate"); err == nil {
		t.Error("unknown command: want a usage error")
	}
	if out, _, err := runCmd(t, nil, "", "help"); err != nil || !strings.Contains(out, "flushexpiredtokens") {
		t.Errorf("help = %q, %v", out, err)
	}
	if _, _, err := runCmd(t, nil, "", "keys"); !errors.Is(err, errUsage) {
		t.Errorf("keys without a subcommand = %v, want a usage error", err)
	}
	// The binary the test runs is built by go test: no module version, but the Go release.
	if out, _, err := runCmd(t, nil, "", "version"); err != nil || !strings.HasPrefix(out, "ciphemic ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version = %q, %v; want ciphemic, its version and %s", out, err, runtime.Version())
	}
}

// TestServePostgres runs the walk-through against PostgreSQL, where the key file is required.
func TestServePostgres(t *testing.T) {
	dsn := postgres.OpenTestURL(t)
	if _, _, err := runCmd(t, nil, "", "serve", "--database", dsn, "--addr", "127.0.0.1:0"); err == nil ||
		!strings.Contains(err.Error(), "--signing-key-file") || strings.Contains(err.Error(), "postgres://") {
		t.Errorf("serve on PostgreSQL without a key file: %v, want an error naming --signing-key-file and not the URL", err)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if _, _, err := runCmd(t, nil, "", "keys", "generate", "--algorithm", "ES256", "--out", keyFile); err != nil {
		t.Fatal(err)
	}
	s := startServerArgs(t, dsn, "--algorithm", "ES256", "--signing-key-file", keyFile)
	status, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	if status != 200 {
		t.Fatalf("login on PostgreSQL = %d %v", status, pair)
	}
	if status, _ := s.get(t, "/api/me/", pair["access"].(string)); status != 200 {
		t.Errorf("GET /api/me/ on PostgreSQL = %d, want 200", status)
	}
}

// TestSubcommandHelp: -h prints a subcommand's flags and succeeds without doing anything.
func TestSubcommandHelp(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "-h"}, {"migrate", "-h"}, {"createuser", "-h"}, {"flushexpiredtokens", "-h"},
		{"import-users", "-h"}, {"keys", "generate", "-h"}, {"keys", "rotate", "-h"},
		{"keys", "-h"}, {"keys", "--help"}, {"changepassword", "-h"}, {"version", "-h"},
	} {
		stdout, _, err := runCmd(t, map[string]string{"CIPHEMIC_DATABASE": "sqlite:" + filepath.Join(dir, "h.db")}, "", args...)
		if err != nil || !strings.Contains(strings.ToLower(stdout), "usage: ciphemic") {
			t.Errorf("%v = %q, %v; want the usage and no error", args, stdout, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("-h created %d files, want none", len(entries))
	}
}

// migratedDB returns the path of a new SQLite database named name, created by `ciphemic
// migrate` as an operator creates one: the other commands refuse a missing database.
func migratedDB(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if _, _, err := runCmd(t, nil, "", "migrate", "--database", "sqlite:"+path); err != nil {
		t.Fatalf("migrate %s: %v", path, err)
	}
	return path
}
