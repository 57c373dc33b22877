package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// userColumns is the column list scanUser reads, in its order.
const userColumns = `id, username, email, first_name, last_name, password_hash, role,
	is_active, date_joined, last_login, tokens_valid_after`

var errUsernameTaken = ciphemic.Errorf(ciphemic.CodeConflict, "A user with that username already exists.")

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanUser(row scanner) (ciphemic.User, error) {
	var (
		u                  ciphemic.User
		role               string
		joined             int64
		lastLogin, revoked sql.NullInt64
	)
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&role, &u.IsActive, &joined, &lastLogin, &revoked)
	if err != nil {
		return ciphemic.User{}, err
	}
	u.Role = ciphemic.Role(role)
	u.DateJoined = fromMicros(joined)
	u.LastLogin = fromNullMicros(lastLogin)
	u.TokensValidAfter = fromNullMicros(revoked)
	return u, nil
}

// CreateUser stores u and returns it with its new ID. A zero DateJoined becomes now.
// A username already taken (exactly, case-sensitively) is CodeConflict.
func (db *DB) CreateUser(ctx context.Context, u ciphemic.User) (ciphemic.User, error) {
	if _, err := ciphemic.ParseRole(string(u.Role)); err != nil {
		return ciphemic.User{}, db.fail("create user", err)
	}
	if u.DateJoined.IsZero() {
		u.DateJoined = db.clock()
	}
	err := db.update(ctx, "create user", func(tx *sql.Tx) error {
		id, err := db.insertUserTx(ctx, tx, u)
		u.ID = id
		return err
	})
	if err != nil {
		return ciphemic.User{}, err
	}
	return normalizeUser(u), nil
}

func (db *DB) insertUserTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) (int64, error) {
	const q = `INSERT INTO users (username, email, first_name, last_name, password_hash, role,
		is_active, date_joined, last_login, tokens_valid_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`
	var id int64
	err := tx.QueryRowContext(ctx, q, u.Username, u.Email, u.FirstName, u.LastName,
		u.PasswordHash, string(u.Role), u.IsActive, micros(u.DateJoined),
		nullMicros(u.LastLogin), nullMicros(u.TokensValidAfter)).Scan(&id)
	if db.kind(err) == KindUnique {
		return 0, errUsernameTaken
	}
	return id, err
}

// normalizeUser gives u's times the precision and location they have once stored, so
// that what CreateUser returns equals what User later reads.
func normalizeUser(u ciphemic.User) ciphemic.User {
	u.DateJoined = fromMicros(micros(u.DateJoined))
	u.LastLogin = fromNullMicros(nullMicros(u.LastLogin))
	u.TokensValidAfter = fromNullMicros(nullMicros(u.TokensValidAfter))
	return u
}

// User returns the user with the given id, or CodeNotFound.
func (db *DB) User(ctx context.Context, id int64) (ciphemic.User, error) {
	u, ok, gen := db.users.get(id)
	if ok {
		return u, nil
	}
	u, err := scanUser(db.queryRowRead(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return ciphemic.User{}, db.fail("user", err)
	}
	db.users.put(u, gen)
	return u, nil
}

// UserByUsername returns the user whose username is exactly username (case-sensitive,
// as Django's default), or CodeNotFound.
func (db *DB) UserByUsername(ctx context.Context, username string) (ciphemic.User, error) {
	u, err := scanUser(db.queryRowRead(ctx,
		`SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return ciphemic.User{}, db.fail("user by username", err)
	}
	return u, nil
}

// CountUsers returns the number of users, active or not.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, db.fail("count users", err)
	}
	return n, nil
}

// RecordLogin sets the user's last_login to at and, when newHash is not empty, replaces
// the password hash (a hash upgraded on login). A missing user is CodeNotFound.
func (db *DB) RecordLogin(ctx context.Context, userID int64, at time.Time, newHash string) error {
	err := db.update(ctx, "record login", func(tx *sql.Tx) error {
		if newHash != "" {
			if err := db.setPasswordTx(ctx, tx, userID, newHash); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE users SET last_login = $1, changed_at = $2 WHERE id = $3`,
			nullMicros(at), micros(db.clock()), userID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	db.users.forget(userID)
	return err
}

// ChangePassword sets the user's password hash and, in the same transaction, revokes
// every token of the user as RevokeUser does. A missing user is CodeNotFound.
func (db *DB) ChangePassword(ctx context.Context, userID int64, hash string, validAfter, until time.Time) error {
	if hash == "" {
		return db.fail("change password", ciphemic.Errorf(ciphemic.CodeInvalid, "A password hash is required."))
	}
	err := db.update(ctx, "change password", func(tx *sql.Tx) error {
		if err := db.setPasswordTx(ctx, tx, userID, hash); err != nil {
			return err
		}
		return db.revokeUserTx(ctx, tx, userID, validAfter, until)
	})
	db.users.forget(userID)
	return err
}

func (db *DB) setPasswordTx(ctx context.Context, tx *sql.Tx, userID int64, hash string) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE users SET password_hash = $1, changed_at = $2 WHERE id = $3`,
		hash, micros(db.clock()), userID)
	if err != nil {
		return err
	}
	return mustAffect(res)
}

// userTx reads a user inside a transaction, so that checks and writes see one state.
func userTx(ctx context.Context, tx *sql.Tx, id int64) (ciphemic.User, error) {
	return scanUser(tx.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}
