package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// errLastAdmin refuses a change that would leave the service without an active admin,
// whom nobody could then replace through the API.
var errLastAdmin = ciphemic.Errorf(ciphemic.CodeConflict, "At least one active admin must remain.")

// The rule "at least one active admin remains" is checked inside the transaction that
// would break it, and it holds only if no two such transactions can both see the other's
// admin still there: two admins demoting each other at once would each see one other
// active admin and both commit (write skew), leaving none. So every transaction that may
// take the active admin role away from a user (a demotion, deactivation or deletion)
// first runs keepAdminTx, which takes a lock that makes them run one at a time and only
// then checks.
//
// On SQLite write transactions already run one at a time: the write pool has a single
// connection and begins every transaction IMMEDIATE (taking the database's write lock up
// front, also against other processes), so the check reads what the last committed write
// left. PostgreSQL runs Dialect.AdminLock, a transaction-level advisory lock (see
// store/postgres); at READ COMMITTED every statement after it sees the commits of the
// transactions that held it before.

// lockAdminsTx makes the transactions that may take away an active admin run one at a
// time; it must come before the transaction reads or locks any user, so that the lock's
// holder never waits for a row a waiter holds.
func (db *DB) lockAdminsTx(ctx context.Context, tx *sql.Tx) error {
	if db.dialect.AdminLock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, db.dialect.AdminLock)
	return err
}

// keepAdminTx takes the lock of lockAdminsTx and then refuses, with errLastAdmin, taking
// the active admin role away from the user id when no other active admin exists. It must
// run before the change, as the transaction's first statement; a missing user is not
// refused here but left to the change to report.
func (db *DB) keepAdminTx(ctx context.Context, tx *sql.Tx, id int64) error {
	if err := db.lockAdminsTx(ctx, tx); err != nil {
		return err
	}
	var admin bool
	err := tx.QueryRowContext(ctx, `SELECT role = $1 AND is_active FROM users WHERE id = $2`,
		string(ciphemic.RoleAdmin), id).Scan(&admin)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case !admin:
		return nil
	}
	others, err := otherActiveAdminTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if !others {
		return errLastAdmin
	}
	return nil
}

// otherActiveAdminTx reports whether an active admin other than the user except exists
// (any active admin when except is 0, which no user has).
func otherActiveAdminTx(ctx context.Context, tx *sql.Tx, except int64) (bool, error) {
	var exists bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users
		WHERE role = $1 AND is_active AND id <> $2)`, string(ciphemic.RoleAdmin), except).Scan(&exists)
	return exists, err
}
