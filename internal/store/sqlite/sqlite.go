// Package sqlite opens a ciphemic store on a SQLite file with the pure-Go driver
// modernc.org/sqlite.
//
// SQLite allows one writer at a time, and a deferred transaction that reads and then
// writes fails with SQLITE_BUSY, whatever busy_timeout says, when another connection
// wrote in between. So writes go through a pool of one connection whose transactions
// begin IMMEDIATE (they wait for the write lock up front, honouring busy_timeout, also
// against other processes), and reads through a separate read-only pool, which WAL
// lets run alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ciphemic/ciphemic/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// readConns is the size of the read pool.
const readConns = 4

// sweepBatchTime and sweepPause shape housekeeping on SQLite's single writer. A batch
// holds the writer, and every write arriving meanwhile waits for all of it, commit
// included, so a batch is kept to about two refreshes' time (among a million rows some
// ten, each an entry in five B-trees); the pause after it, at least as long as the batch,
// is short, so that the sweep still deletes a million expired rows in a few minutes.
// Measured with storebench's RotateDuringCleanup (docs/PERFORMANCE.md, goal 6).
const (
	sweepBatchTime = 200 * time.Microsecond
	sweepPause     = 300 * time.Microsecond
)

// writeParams and readParams are modernc.org/sqlite DSN parameters. busy_timeout comes
// first in both, so the pragmas after it wait for locks instead of failing.
const (
	writeParams = "_busy_timeout=5000&_foreign_keys=on&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_pragma=wal_autocheckpoint(10000)"
	readParams  = "_busy_timeout=5000&_foreign_keys=on&_query_only=on"
)

// Open opens, creating it if needed, the SQLite database file at path, and returns a
// store over it; call Migrate before use. path is a file name, not a URI: ":memory:",
// "file:" URIs and names containing '?' are refused, since the two pools must share one
// file.
func Open(path string, opts ...store.Option) (*store.DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	write, err := openPool(path, writeParams, 1)
	if err != nil {
		return nil, err
	}
	// The read pool opens only once the writer has made the file and switched it to WAL.
	read, err := openPool(path, readParams, readConns)
	if err != nil {
		_ = write.Close() // the read pool's error is the one to report
		return nil, err
	}
	cp, err := startCheckpointer(path)
	if err != nil {
		_ = write.Close() // the checkpointer's error is the one to report
		_ = read.Close()
		return nil, err
	}
	// One writer: rotations share its transactions (store.WithRotationBatching).
	opts = append([]store.Option{store.WithRotationBatching(), store.WithCloser(cp)}, opts...)
	return store.New(read, write, dialect(), opts...), nil
}

func checkPath(path string) error {
	switch {
	case path == "", path == ":memory:", strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: database must be a file name, got %q", path)
	case strings.ContainsRune(path, '?'):
		return fmt.Errorf("sqlite: database file name %q must not contain '?'", path)
	}
	return nil
}

// createPrivate creates the database file readable by its owner only, since it holds
// password hashes; SQLite gives its -wal and -shm files the same mode. An existing file is
// left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator's --database path, never request input
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return f.Close()
}

func openPool(path, params string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	// Connecting now applies the pragmas and surfaces a bad path at Open, not later.
	if err := db.PingContext(context.Background()); err != nil {
		_ = db.Close() // the ping's error is the one to report
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

func dialect() store.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return store.Dialect{Name: "sqlite", Migrations: sub, Classify: classify, SweepBatchTime: sweepBatchTime, SweepPause: sweepPause}
}

// classify sorts modernc.org/sqlite errors by their extended result code.
func classify(err error) store.ErrorKind {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return store.KindOther
	}
	switch code := e.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.KindUnique
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.KindForeignKey
	case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
		return store.KindUnavailable
	}
	return store.KindOther
}
