package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// ImportResult is what ImportUsers did.
type ImportResult struct {
	Created, Updated int
	// Revoked names the updated users whose tokens the import ended, in import order.
	Revoked []string
}

// ImportUsers upserts users by username in one transaction, all or nothing. A new
// username is inserted; an existing one keeps its id and gets every other imported field
// (Email, FirstName, LastName, PasswordHash, Role, IsActive, DateJoined, LastLogin)
// replaced, except that a PasswordHash the previous import of that user already brought
// leaves the stored hash alone: ciphemic may have upgraded it at a login since, or the
// user may have changed their password here, and re-importing an unchanged dump must
// not undo either.
//
// An update that changes the user's role, deactivates them, or brings a password hash
// other than the one the previous import brought revokes every token of the user exactly
// as RevokeUser(ctx, id, revokeAt, until) does (revokeAt zero: now), in the same
// transaction, as UpdateUser does for the same changes: such an import is how an
// operator takes a role or an account away, and tokens must not outlive it. A user no
// import has written before is compared with its stored hash instead, so a hash ciphemic
// upgraded counts as new once. until must be after revokeAt, else CodeInvalid.
//
// A new user with ID > 0 is inserted with that id (the Django pk), so that tokens the
// Django server issued keep naming the same user; an id another username holds is
// CodeConflict "record <username>: id <id> is taken by another user". Records with an id
// are written before those without, and the id generator is then moved past every id, so
// that users without one, in this import or created later, get fresh ids. A zero
// DateJoined becomes now; a blank username or unknown role is CodeInvalid. Errors name
// the record they are about.
func (db *DB) ImportUsers(ctx context.Context, users []ciphemic.User, revokeAt, until time.Time) (ImportResult, error) {
	now := db.clock()
	if revokeAt.IsZero() {
		revokeAt = now
	}
	if !until.After(revokeAt) {
		return ImportResult{}, db.fail("import users", ciphemic.Errorf(ciphemic.CodeInvalid,
			"A revocation must matter until after it is made."))
	}
	for i, u := range users {
		if err := checkUser(u); err != nil {
			return ImportResult{}, db.fail("import users", recordErr(i, u, err))
		}
	}
	imp := importRun{db: db, now: now, revokeAt: revokeAt, until: until}
	err := db.update(ctx, "import users", func(tx *sql.Tx) error {
		// Users with explicit ids go first and the id generator is moved past them
		// before any user gets a generated id, which could otherwise be one of them.
		if err := imp.passTx(ctx, tx, users, true); err != nil {
			return err
		}
		if imp.res.Created > 0 && db.dialect.ResetIdentity != nil {
			if _, err := tx.ExecContext(ctx, db.dialect.ResetIdentity("users")); err != nil {
				return err
			}
		}
		return imp.passTx(ctx, tx, users, false)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return imp.res, nil
}

// importRun is one ImportUsers call: its clock, its revocation and what it did so far.
type importRun struct {
	db              *DB
	now             time.Time
	revokeAt, until time.Time
	res             ImportResult
}

// passTx imports, in order, the users with an explicit id (withIDs) or those without.
func (imp *importRun) passTx(ctx context.Context, tx *sql.Tx, users []ciphemic.User, withIDs bool) error {
	for i, u := range users {
		if (u.ID > 0) != withIDs {
			continue
		}
		if u.DateJoined.IsZero() {
			u.DateJoined = imp.now
		}
		if err := imp.userTx(ctx, tx, u); err != nil {
			return recordErr(i, u, err)
		}
	}
	return nil
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

// priorUser is what an import needs to know of a user it updates.
type priorUser struct {
	id             int64
	username, hash string
	role           string
	active         bool
	importedDigest sql.NullString // of the hash the previous import brought, if any
}

// hashDigest is the record of an imported hash: its hex SHA-256, which tells the next
// import whether it brings the same hash without keeping a second copy of it.
func hashDigest(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:])
}

// newPassword reports whether the imported hash is a new password for p: one the previous
// import did not bring. With no previous import on record only the stored hash can say,
// and a hash upgraded since then differs from it: ending tokens that need not end is the
// safe side of that doubt.
func (p priorUser) newPassword(hash string) bool {
	if p.importedDigest.Valid {
		return p.importedDigest.String != hashDigest(hash)
	}
	return p.hash != hash
}

// userTx writes one imported user.
func (imp *importRun) userTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) error {
	var p priorUser
	err := tx.QueryRowContext(ctx, `SELECT id, username, password_hash, role, is_active, imported_hash_sha256
		FROM users WHERE username = $1`, u.Username).
		Scan(&p.id, &p.username, &p.hash, &p.role, &p.active, &p.importedDigest)
	switch {
	case err == nil:
		imp.res.Updated++
		return imp.replaceUserTx(ctx, tx, p, u)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	imp.res.Created++
	if u.ID > 0 {
		return imp.db.insertUserWithIDTx(ctx, tx, u)
	}
	id, err := imp.db.insertUserTx(ctx, tx, u)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET imported_hash_sha256 = $1 WHERE id = $2`,
		hashDigest(u.PasswordHash), id)
	return err
}

// replaceUserTx gives the user p every imported field of u, and revokes the user's tokens
// when u takes a role or the account away from them or brings a new password.
func (imp *importRun) replaceUserTx(ctx context.Context, tx *sql.Tx, p priorUser, u ciphemic.User) error {
	newPassword := p.newPassword(u.PasswordHash)
	hash := p.hash
	if newPassword {
		hash = u.PasswordHash
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET email = $1, first_name = $2, last_name = $3,
		password_hash = $4, role = $5, is_active = $6, date_joined = $7, last_login = $8,
		imported_hash_sha256 = $9 WHERE id = $10`,
		u.Email, u.FirstName, u.LastName, hash, string(u.Role), u.IsActive,
		micros(u.DateJoined), nullMicros(u.LastLogin), hashDigest(u.PasswordHash), p.id)
	if err != nil {
		return err
	}
	if !newPassword && string(u.Role) == p.role && (u.IsActive || !p.active) {
		return nil
	}
	imp.res.Revoked = append(imp.res.Revoked, p.username)
	return imp.db.revokeUserTx(ctx, tx, p.id, imp.revokeAt, imp.until)
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
		password_hash, role, is_active, date_joined, last_login, tokens_valid_after,
		imported_hash_sha256)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		u.ID, u.Username, u.Email, u.FirstName, u.LastName, u.PasswordHash, string(u.Role),
		u.IsActive, micros(u.DateJoined), nullMicros(u.LastLogin), nullMicros(u.TokensValidAfter),
		hashDigest(u.PasswordHash))
	if db.kind(err) == KindUnique {
		// A user created concurrently took the id or the username.
		return errTaken
	}
	return err
}
