// Package store is the one database/sql core of ciphemic: every query is written here,
// once, and runs unchanged on SQLite and PostgreSQL. The backend packages (store/sqlite,
// store/postgres) only open the driver, tune its pools, embed the migrations and classify
// driver errors; store/storetest is the conformance suite both run.
//
// Queries use $1..$n placeholders, which both pgx and modernc.org/sqlite bind by ordinal.
// Every instant is stored as a BIGINT of unix microseconds (NULL for the zero time), so
// comparisons mean the same on both backends and round trips keep microsecond precision.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// ErrorKind is what a backend tells the core about a driver error, so that the core can
// give it the code and message of the operation that failed.
type ErrorKind int

// The kinds of driver errors the core tells apart.
const (
	KindOther       ErrorKind = iota // anything else: an internal error
	KindUnique                       // a unique or primary-key violation
	KindForeignKey                   // a row refers to a row that does not exist
	KindUnavailable                  // the database is busy or unreachable; retrying may work
)

// Dialect is what a backend supplies to the core.
type Dialect struct {
	// Name names the backend in wrapped errors ("sqlite", "postgres").
	Name string
	// Migrations holds the numbered migration files (0001_init.sql, …) at its root.
	Migrations fs.FS
	// MigrationLock, when set, is run first in every migration transaction so that
	// several instances starting at once apply each migration once.
	MigrationLock string
	// Classify sorts a driver error into a kind.
	Classify func(error) ErrorKind
	// LockRows, appended to a SELECT in a write transaction, locks the rows it reads
	// against concurrent writes and foreign-key checks until the transaction ends
	// (" FOR UPDATE"). It is empty where write transactions run one at a time (SQLite).
	LockRows string
	// AdminLock, when set, is run first in every transaction that may take the active
	// admin role away from a user, so that such transactions run one at a time and each
	// one's check that an active admin remains sees what the others committed. It is
	// empty where write transactions run one at a time anyway (SQLite).
	AdminLock string
	// ResetIdentity, when set, returns the statement that moves the id generator of table
	// past the table's largest id, run after inserting rows with explicit ids. It is nil
	// where the database does that by itself (SQLite's AUTOINCREMENT).
	ResetIdentity func(table string) string
	// SweepBatchTime is the time budget of one housekeeping transaction (Sweep.BatchTime)
	// on this backend: about as long as a request may wait behind one. Zero means
	// DefaultSweepBatchTime.
	SweepBatchTime time.Duration
	// SweepPause is the shortest wait between two housekeeping transactions on this
	// backend (Sweep.Pause); zero means DefaultSweepPause.
	SweepPause time.Duration
}

// DB is a ciphemic store. Reads go to the read pool and writes, always in a transaction,
// to the write pool; a backend may pass the same *sql.DB as both.
type DB struct {
	read, write *sql.DB
	dialect     Dialect
	now         atomic.Pointer[func() time.Time]
	stmts       stmtCache // prepared on the read pool
	writeStmts  stmtCache // prepared on the write pool, bound to transactions by txStmt
	users       *userCache
	rotations   *rotationBatcher // nil: each rotation its own transaction
	// closers are the backend's own resources, closed before the pools (WithCloser).
	closers []io.Closer
}

// Option configures a DB.
type Option func(*DB)

// WithNow sets the clock that stamps rows whose time is not an argument (created_at,
// a zero DateJoined), so that tests control time without sleeping.
func WithNow(now func() time.Time) Option {
	return func(db *DB) { db.SetNow(now) }
}

// WithCloser has Close close c, before the pools: a backend's own goroutine or connection
// that lives as long as the DB.
func WithCloser(c io.Closer) Option {
	return func(db *DB) { db.closers = append(db.closers, c) }
}

// New returns a DB over the given pools. It is meant for backend packages; applications
// call sqlite.Open or postgres.Open.
func New(read, write *sql.DB, d Dialect, opts ...Option) *DB {
	db := &DB{read: read, write: write, dialect: d}
	db.SetNow(time.Now)
	db.users = newUserCache(DefaultUserCacheSize, db.clock)
	for _, opt := range opts {
		opt(db)
	}
	return db
}

// SetNow replaces the clock; it is meant for tests.
func (db *DB) SetNow(now func() time.Time) {
	db.now.Store(&now)
}

func (db *DB) clock() time.Time {
	return (*db.now.Load())().UTC()
}

// Ping reports whether the database answers, for readiness checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return db.fail("ping", err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return db.fail("ping", err)
		}
	}
	return nil
}

// PoolStats are the statistics of one connection pool, named "read", "write" or, when a
// backend passes one pool as both, "shared".
type PoolStats struct {
	Name string
	sql.DBStats
}

// Stats returns the statistics of the store's pools, for the operator's metrics: a
// pool always waiting for a connection is what a slow store looks like from here.
func (db *DB) Stats() []PoolStats {
	if db.read == db.write {
		return []PoolStats{{"shared", db.write.Stats()}}
	}
	return []PoolStats{{"read", db.read.Stats()}, {"write", db.write.Stats()}}
}

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	for _, c := range db.closers {
		err = errors.Join(err, c.Close())
	}
	db.stmts.close()
	db.writeStmts.close()
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// update runs fn in a write transaction and commits when fn succeeds.
func (db *DB) update(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return db.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return db.fail(op, err)
	}
	return nil
}

var (
	errNotFound    = ciphemic.Errorf(ciphemic.CodeNotFound, "Not found.")
	errUnavailable = ciphemic.Errorf(ciphemic.CodeUnavailable, "Service temporarily unavailable, try again later.")
)

// fail wraps err with op. A driver error the backend classifies as unavailable also
// carries CodeUnavailable; sql.ErrNoRows becomes CodeNotFound. Errors that already carry
// a code keep it.
func (db *DB) fail(op string, err error) error {
	var ce *ciphemic.Error
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, errNotFound)
	case db.kind(err) == KindUnavailable:
		return fmt.Errorf("%s %s: %w: %w", db.dialect.Name, op, errUnavailable, err)
	}
	return fmt.Errorf("%s %s: %w", db.dialect.Name, op, err)
}

func (db *DB) kind(err error) ErrorKind {
	if err == nil || db.dialect.Classify == nil {
		return KindOther
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindUnavailable
	}
	return db.dialect.Classify(err)
}

// mustAffect turns an UPDATE or DELETE that touched no row into CodeNotFound.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNotFound
	}
	return nil
}

// micros is the stored form of a required instant.
func micros(t time.Time) int64 {
	return t.UnixMicro()
}

// nullMicros is the stored form of an optional instant: NULL for the zero time.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros is the inverse of micros, always in UTC.
func fromMicros(v int64) time.Time {
	return time.UnixMicro(v).UTC()
}

// fromNullMicros is the inverse of nullMicros.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}
