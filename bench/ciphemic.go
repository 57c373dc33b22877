package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the scratch database
)

// The accounts the benchmark creates on every ciphemic store. The password passes Django's
// validators, which createuser applies.
var (
	benchUser    = account{"bench", "bench-load-password-7Qx"}
	benchTeacher = account{"benchteacher", "bench-load-password-7Qx"}
)

// instance is what the ciphemic servers of one configuration (store and algorithm) share:
// the binary, the database and the signing key.
type instance struct {
	bin, dir, database, keyFile, algorithm string
	starts                                 int
}

// newInstance generates a signing key for algorithm with `ciphemic keys generate`.
func newInstance(ctx context.Context, bin, dir, database, algorithm string) (*instance, error) {
	in := &instance{bin: bin, dir: dir, database: database, algorithm: algorithm,
		keyFile: filepath.Join(dir, "signing-"+algorithm+".key")}
	err := runTool(ctx, dir, ciphemicEnv(), nil, bin, "keys", "generate", "--algorithm", algorithm, "--out", in.keyFile)
	return in, err
}

// start runs `ciphemic serve` on a free port with the access log on (JSON, to a file: it
// is part of what a request costs) and login throttling off (the scenarios log one user
// in thousands of times), and waits for /healthz.
func (in *instance) start(ctx context.Context, ps *procs) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	in.starts++
	logPath := filepath.Join(in.dir, fmt.Sprintf("ciphemic-%s-%d.log", in.algorithm, in.starts))
	p, err := ps.start("ciphemic", in.dir, logPath, ciphemicEnv(), in.bin, "serve",
		"--addr", addr, "--database", in.database,
		"--algorithm", in.algorithm, "--signing-key-file", in.keyFile,
		"--login-throttle=false", "--log-format", "json",
		// The first admin's password goes to a file: on PostgreSQL serve refuses to print it
		// into a log, which is what its standard output is here.
		"--initial-admin-password-file", filepath.Join(in.dir, "admin-password"))
	if err != nil {
		return nil, err
	}
	s := &server{name: "ciphemic", addr: addr, user: benchUser, teacher: benchTeacher, proc: p}
	return s, waitHTTP(ctx, s, "/healthz", func(st int) bool { return st == 200 }, time.Minute)
}

// ciphemicEnv is the environment of the ciphemic commands: without the caller's
// CIPHEMIC_* settings, which would change what is measured.
func ciphemicEnv() []string {
	return environ(func(kv string) bool { return strings.HasPrefix(kv, "CIPHEMIC_") })
}

// createUsers creates the benchmark's user (a student) and teacher with `ciphemic
// createuser`, once the first server has migrated the store.
func (in *instance) createUsers(ctx context.Context) error {
	for _, u := range []struct {
		a    account
		role string
	}{{benchUser, "student"}, {benchTeacher, "teacher"}} {
		err := runTool(ctx, in.dir, ciphemicEnv(), strings.NewReader(u.a.password+"\n"), in.bin, "createuser",
			"--database", in.database, "--username", u.a.username, "--role", u.role, "--password-stdin")
		if err != nil {
			return err
		}
	}
	return nil
}

// scratchDatabase creates an empty PostgreSQL database on the server adminURL names and
// returns its URL and a function that drops it.
func scratchDatabase(ctx context.Context, adminURL string) (string, func() error, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres-url: %w", err)
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	name := "ciphemic_bench_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close() // the error to report is the CREATE's
		return "", nil, fmt.Errorf("create the scratch database on %s: %w", u.Redacted(), err)
	}
	drop := func() error {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
