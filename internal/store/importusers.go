package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// ImportUsers upserts users by username in one transaction, all or nothing, and returns
// how many it created and how many it updated. A new username is inserted; an existing
// one keeps its id and gets every other imported field (Email, FirstName, LastName,
// PasswordHash, Role, IsActive, DateJoined, LastLogin) replaced. A new user with ID > 0 is
// inserted with that id (the Django pk), so that tokens the Django server issued keep
// naming the same user; an id another username holds is CodeConflict "record <username>:
// id <id> is taken by another user". Records with an id are written before those
// without, and the id generator is then moved past every id, so that users without one,
// in this import or created later, get fresh ids. A zero DateJoined becomes now; a blank
// username or unknown role is CodeInvalid. Errors name the record they are about.
func (db *DB) ImportUsers(ctx context.Context, users []ciphemic.User) (created, updated int, err error) {
	now := db.clock()
	for i, u := range users {
		if err := checkUser(u); err != nil {
			return 0, 0, db.fail("import users", recordErr(i, u, err))
		}
	}
	defer db.users.clear()
	err = db.update(ctx, "import users", func(tx *sql.Tx) error {
		// Users with explicit ids go first and the id generator is moved past them
		// before any user gets a generated id, which could otherwise be one of them.
		c1, u1, err := db.importPassTx(ctx, tx, users, now, true)
		if err != nil {
			return err
		}
		if c1 > 0 && db.dialect.ResetIdentity != nil {
			if _, err := tx.ExecContext(ctx, db.dialect.ResetIdentity("users")); err != nil {
				return err
			}
		}
		c2, u2, err := db.importPassTx(ctx, tx, users, now, false)
		created, updated = c1+c2, u1+u2
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return created, updated, nil
}

// importPassTx imports, in order, the users with an explicit id (withIDs) or those
// without, and returns how many it created and updated.
func (db *DB) importPassTx(ctx context.Context, tx *sql.Tx, users []ciphemic.User, now time.Time, withIDs bool) (created, updated int, err error) {
	for i, u := range users {
		if (u.ID > 0) != withIDs {
			continue
		}
		if u.DateJoined.IsZero() {
			u.DateJoined = now
		}
		isNew, err := db.importUserTx(ctx, tx, u)
		switch {
		case err != nil:
			return 0, 0, recordErr(i, u, err)
		case isNew:
			created++
		default:
			updated++
		}
	}
	return created, updated, nil
}

// recordErr names the ith record in err when err is a client-facing Error; other errors
// pass through for the logs.
func recordErr(i int, u ciphemic.User, err error) error {
	var ce *ciphemic.Error
	if !errors.As(err, &ce) {
		return fmt.Errorf("record %d: %w", i+1, err)
	}
	name := u.Username
	if name == "" {
		name = fmt.Sprintf("#%d", i+1)
	}
	return ciphemic.Errorf(ce.Code, "record %s: %s", name, ce.Message)
}

// importUserTx writes one imported user and reports whether it was new.
func (db *DB) importUserTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) (bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE username = $1`, u.Username).Scan(&id)
	switch {
	case err == nil:
		return false, replaceUserTx(ctx, tx, id, u)
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	case u.ID <= 0:
		_, err := db.insertUserTx(ctx, tx, u)
		return true, err
	}
	return true, db.insertUserWithIDTx(ctx, tx, u)
}

// replaceUserTx gives the user id every imported field of u.
func replaceUserTx(ctx context.Context, tx *sql.Tx, id int64, u ciphemic.User) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET email = $1, first_name = $2, last_name = $3,
		password_hash = $4, role = $5, is_active = $6, date_joined = $7, last_login = $8
		WHERE id = $9`,
		u.Email, u.FirstName, u.LastName, u.PasswordHash, string(u.Role), u.IsActive,
		micros(u.DateJoined), nullMicros(u.LastLogin), id)
	return err
}

// insertUserWithIDTx inserts the new user u with its own u.ID, which must be free.
func (db *DB) insertUserWithIDTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) error {
	errTaken := ciphemic.Errorf(ciphemic.CodeConflict, "id %d is taken by another user", u.ID)
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1`, u.ID).Scan(&one)
	switch {
	case err == nil:
		return errTaken
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO users (id, username, email, first_name, last_name,
		password_hash, role, is_active, date_joined, last_login, tokens_valid_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.Username, u.Email, u.FirstName, u.LastName, u.PasswordHash, string(u.Role),
		u.IsActive, micros(u.DateJoined), nullMicros(u.LastLogin), nullMicros(u.TokensValidAfter))
	if db.kind(err) == KindUnique {
		// A user created concurrently took the id or the username.
		return errTaken
	}
	return err
}
