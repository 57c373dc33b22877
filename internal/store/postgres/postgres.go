// Package postgres opens a ciphemic store on PostgreSQL through pgx's database/sql
// driver. One pool serves reads and writes; PostgreSQL's row locks make the core's
// conditional UPDATEs exactly-once across instances.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/ciphemic/ciphemic/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockKey names the advisory lock every migration transaction takes, so that
// instances starting together apply each migration once. It is an arbitrary constant
// ("ciphemic" in ASCII) shared by every ciphemic instance on a database.
const migrationLockKey = 0x63697068656d6963

// adminLockClass is the first key of the advisory lock that serialises the transactions
// that may take away an active admin ("ciph" in ASCII); the second key is the OID of the
// users table, so that stores in different schemas of one database do not wait for each
// other. The two-key form never collides with the one-key migration lock.
const adminLockClass = 0x63697068

// adminLock is the store's AdminLock. A transaction-level advisory lock was chosen over
// the alternatives: SELECT … FOR UPDATE on the active admin rows locks only the rows its
// snapshot sees (not an admin promoted meanwhile), and blocks those admins' logins and
// enrollments' key checks while it is held; SERIALIZABLE would need every such
// transaction retried on serialization failures. The advisory lock blocks nothing but
// the other transactions that take it, and is released at commit or rollback.
var adminLock = fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, 'users'::regclass::oid::integer)", adminLockClass)

// maxConns bounds the pool, leaving room under PostgreSQL's default of 100 connections
// for several instances.
const maxConns = 16

// Open connects to the PostgreSQL database named by dsn (a postgres:// URL or a
// key=value string, as pgx accepts) and pings it; call Migrate before use.
func Open(ctx context.Context, dsn string, opts ...store.Option) (*store.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		// pgx redacts the password from DSN parse errors.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping's error is the one to report
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	return store.New(db, db, dialect(), opts...), nil
}

func dialect() store.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return store.Dialect{
		Name:          "postgres",
		Migrations:    sub,
		MigrationLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(migrationLockKey)),
		Classify:      classify,
		LockRows:      " FOR UPDATE",
		AdminLock:     adminLock,
		ResetIdentity: resetIdentity,
		// Requests never wait for a housekeeping transaction's row locks here, but a
		// refresh's commit waits for the WAL the sweep wrote before it to reach the disk.
		SweepBatchTime: 2 * time.Millisecond,
	}
}

// resetIdentity returns the statement that moves the identity sequence of table's id
// column to the largest id, so that the next generated id is past every explicit one. It
// never moves the sequence back, so an id a deleted user had is not handed out again.
func resetIdentity(table string) string {
	return fmt.Sprintf(`SELECT setval(s.seq, GREATEST((SELECT COALESCE(MAX(id), 0) FROM %[1]s),
		COALESCE(pg_sequence_last_value(s.seq), 0), 1))
		FROM (SELECT pg_get_serial_sequence('%[1]s', 'id')::regclass AS seq) s`, table)
}

// classify sorts pgx errors by SQLSTATE, and connection failures as unavailable.
func classify(err error) store.ErrorKind {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return classifyState(pe.Code)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) {
		return store.KindUnavailable
	}
	return store.KindOther
}

func classifyState(code string) store.ErrorKind {
	switch {
	case code == "23505": // unique_violation
		return store.KindUnique
	case code == "23503": // foreign_key_violation
		return store.KindForeignKey
	case code == "40001", code == "40P01": // serialization failure, deadlock: retry
		return store.KindUnavailable
	case code == "53300", code == "57P01", code == "57P03": // too many connections, shutdown
		return store.KindUnavailable
	case len(code) == 5 && code[:2] == "08": // connection exception
		return store.KindUnavailable
	}
	return store.KindOther
}
