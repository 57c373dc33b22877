package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/storetest"
)

func mustOpen(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB {
		return mustOpen(t, filepath.Join(t.TempDir(), "ciphemic.db"))
	})
}

// TestShared opens one file twice, as two processes would, and has both write at once
// while a third connection holds a read transaction open: with BEGIN IMMEDIATE and
// busy_timeout none of it may fail with SQLITE_BUSY.
func TestShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ciphemic.db")
	a, b := mustOpen(t, path), mustOpen(t, path)
	reader := mustRaw(t, path, "_busy_timeout=5000")
	tx, err := reader.Begin()
	if err != nil {
		t.Fatalf("Begin() = %v", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(&n); err != nil {
		t.Fatalf("reading in the held transaction: %v", err)
	}
	storetest.RunShared(t, a, b)
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", ":memory:", "file::memory:?cache=shared", "file:" + dir + "/x.db", dir + "/x.db?mode=memory"} {
		if db, err := Open(path); err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error, want it refused", path)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing", "x.db")); err == nil {
		t.Errorf("Open(file in a missing directory) = nil error, want an error")
	}
}

// TestPragmas checks the settings the pools rely on: WAL on the file, IMMEDIATE
// transactions and a busy timeout on the writer, and a read pool that cannot write.
func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ciphemic.db")
	write, err := openPool(path, writeParams, 1)
	if err != nil {
		t.Fatalf("openPool(write) = %v", err)
	}
	defer write.Close()
	read, err := openPool(path, readParams, 2)
	if err != nil {
		t.Fatalf("openPool(read) = %v", err)
	}
	defer read.Close()
	tests := []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{write, "journal_mode", "wal"},
		{write, "busy_timeout", "5000"},
		{write, "foreign_keys", "1"},
		{write, "synchronous", "1"},
		{read, "busy_timeout", "5000"},
		{read, "query_only", "1"},
	}
	for _, tc := range tests {
		var got string
		if err := tc.db.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil || got != tc.want {
			t.Errorf("PRAGMA %s = %q, %v, want %q", tc.pragma, got, err, tc.want)
		}
	}
	if _, err := read.Exec(`CREATE TABLE t (x)`); err == nil {
		t.Errorf("CREATE TABLE on the read pool succeeded, want it refused")
	}
}

// TestReadThenWrite runs transactions that read and then write from two write pools,
// as two processes would. Deferred transactions fail here with SQLITE_BUSY whatever the
// busy timeout; IMMEDIATE ones wait for each other and all succeed.
func TestReadThenWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rw.db")
	var pools []*sql.DB
	for range 2 {
		db, err := openPool(path, writeParams, 1)
		if err != nil {
			t.Fatalf("openPool(write) = %v", err)
		}
		t.Cleanup(func() { db.Close() })
		pools = append(pools, db)
	}
	mustExec(t, pools[0], `CREATE TABLE counter (n INTEGER NOT NULL)`)
	mustExec(t, pools[0], `INSERT INTO counter VALUES (0)`)
	const workers, rounds = 8, 25
	errs := make(chan error, workers*rounds)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for range rounds {
				errs <- increment(pools[i%2])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("read-then-write transaction = %v, want nil", err)
		}
	}
	var n int
	if err := pools[1].QueryRow(`SELECT n FROM counter`).Scan(&n); err != nil || n != workers*rounds {
		t.Errorf("counter = %d, %v, want %d", n, err, workers*rounds)
	}
}

// increment reads the counter and writes it back plus one, in one transaction.
func increment(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT n FROM counter`).Scan(&n); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE counter SET n = $1`, n+1); err != nil {
		return err
	}
	return tx.Commit()
}

// TestPlaceholders checks that the driver binds PostgreSQL-style $n placeholders by
// number, repeated and out of order, which lets the core write each query once.
func TestPlaceholders(t *testing.T) {
	db := mustRaw(t, filepath.Join(t.TempDir(), "p.db"), "")
	var x, y, z string
	if err := db.QueryRow(`SELECT $2, $1, $2 || $1`, "a", "b").Scan(&x, &y, &z); err != nil {
		t.Fatalf("SELECT $2, $1, $2 || $1 = %v", err)
	}
	if x != "b" || y != "a" || z != "ba" {
		t.Errorf("SELECT $2, $1, $2 || $1 with (a, b) = %q, %q, %q, want b, a, ba", x, y, z)
	}
}

// mustRaw opens path with the driver alone, for what the store does not expose.
func mustRaw(t *testing.T, path, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		t.Fatalf("sql.Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("Ping(%q) = %v", path, err)
	}
	return db
}

func TestClassify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	raw := mustRaw(t, path, "_foreign_keys=on")
	mustExec(t, raw, `CREATE TABLE p (id INTEGER PRIMARY KEY, u TEXT UNIQUE)`)
	mustExec(t, raw, `CREATE TABLE c (p INTEGER REFERENCES p (id))`)
	mustExec(t, raw, `INSERT INTO p VALUES (1, 'x')`)
	tests := []struct {
		query string
		want  store.ErrorKind
	}{
		{`INSERT INTO p VALUES (2, 'x')`, store.KindUnique},
		{`INSERT INTO p VALUES (1, 'y')`, store.KindUnique},
		{`INSERT INTO c VALUES (9)`, store.KindForeignKey},
		{`SELECT nonsense FROM p`, store.KindOther},
	}
	for _, tc := range tests {
		_, err := raw.Exec(tc.query)
		if got := classify(err); got != tc.want {
			t.Errorf("classify(%q: %v) = %v, want %v", tc.query, err, got, tc.want)
		}
	}

	// A writer that cannot get the lock in time is unavailable, not an internal error.
	holder := mustRaw(t, path, "_txlock=immediate")
	held, err := holder.Begin()
	if err != nil {
		t.Fatalf("Begin() = %v", err)
	}
	defer held.Rollback()
	impatient := mustRaw(t, path, "_txlock=immediate&_busy_timeout=0")
	_, err = impatient.Begin()
	if got := classify(err); got != store.KindUnavailable {
		t.Errorf("classify(%v) = %v, want KindUnavailable", err, got)
	}
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestFileIsPrivate: a new database file holds password hashes, so only its owner may read it.
func TestFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, p := range []string{path, path + "-wal"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("Stat(%s): %v", p, err)
		}
		if mode := info.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s mode = %v, want no group or other access", filepath.Base(p), mode)
		}
	}
}

// TestMigrateAppliedNames: HasSchema tells a fresh database from a migrated one without
// creating anything, and a fresh database reports every migration it applied, by file
// name and in order, so that `ciphemic migrate` can say what it changed.
func TestMigrateAppliedNames(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "names.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for range 2 { // asking twice: the first asking created nothing
		if has, err := db.HasSchema(t.Context()); err != nil || has {
			t.Fatalf("HasSchema() on a fresh database = %t, %v; want false", has, err)
		}
	}
	applied, err := db.MigrateApplied(t.Context())
	if err != nil {
		t.Fatalf("MigrateApplied: %v", err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	for i, n := range names {
		names[i] = path.Base(n)
	}
	if !slices.Equal(applied, names) {
		t.Errorf("MigrateApplied() on a fresh database = %q, want %q", applied, names)
	}
}
