package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/username"
)

// ImportResult is what ImportUsers did.
type ImportResult struct {
	Created, Updated int
	// Revoked names the updated users whose tokens the import ended, in import order.
	Revoked []string
}

// ImportUsers upserts users by username in one transaction, all or nothing. Usernames
// are stored in NFKC, as everywhere. A new username is inserted; an existing one keeps
// its id and gets every other imported field (Email, FirstName, LastName, PasswordHash,
// Role, IsActive, DateJoined, LastLogin) replaced, except that a PasswordHash the
// previous import of that user already brought leaves the stored hash alone: ciphemic
// may have upgraded it at a login since, or the user may have changed their password
// here, and re-importing an unchanged dump must not undo either.
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
// CodeConflict "record <username>: id <id> is taken by another user, <holder>: …", which
// names the ways out (ImportUsersRenumbered). Every record's pk is recorded as its user's
// Django id (DjangoUserID), whichever id the user has here. Records with an id
// are written before those without, and the id generator is then moved past every id, so
// that users without one, in this import or created later, get fresh ids. A zero
// DateJoined becomes now; a blank username or unknown role is CodeInvalid. Errors name
// the record they are about.
//
// An imported username is the stored one when they are equal, or when the stored one is
// its NFKC form and has its pk (its own earlier import). One that is NFKC-equal to
// another user's username (a look-alike: "ａdmin" beside "admin"), or to that of an
// earlier record of the import, is CodeConflict naming both, never merged into it; a
// stored username that predates normalisation is renamed to its NFKC form when its record
// is imported.
func (db *DB) ImportUsers(ctx context.Context, users []ciphemic.User, revokeAt, until time.Time) (ImportResult, error) {
	return db.importUsers(ctx, users, revokeAt, until, false)
}

// importUsers is ImportUsers, and with renumber ImportUsersRenumbered.
func (db *DB) importUsers(ctx context.Context, users []ciphemic.User, revokeAt, until time.Time, renumber bool) (ImportResult, error) {
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
	imp := importRun{db: db, now: now, revokeAt: revokeAt, until: until, renumber: renumber}
	defer db.users.clear()
	err := db.update(ctx, "import users", func(tx *sql.Tx) (err error) {
		// First, before any user row is read: see lockAdminsTx. The rule is checked on the
		// whole import, so that one which demotes the old admin and brings a new one works.
		if err := db.lockAdminsTx(ctx, tx); err != nil {
			return err
		}
		hadAdmin, err := otherActiveAdminTx(ctx, tx, 0)
		if err != nil {
			return err
		}
		if imp.names, err = readNamesTx(ctx, tx); err != nil {
			return err
		}
		if imp.djangoIDs, err = djangoIDsQ(ctx, tx); err != nil {
			return err
		}
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
		if err := imp.passTx(ctx, tx, users, false); err != nil {
			return err
		}
		if hasAdmin, err := otherActiveAdminTx(ctx, tx, 0); err != nil || (hadAdmin && !hasAdmin) {
			return cmp.Or[error](err, errLastAdmin)
		}
		return nil
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
	names           nameIndex
	res             ImportResult
	// renumber gives new users generated ids instead of their Django pks; djangoIDs are
	// the pks earlier imports recorded (djangoids.go).
	renumber  bool
	djangoIDs map[int64]int64
}

// passTx imports, in order, the users with an explicit id (withIDs) or those without.
func (imp *importRun) passTx(ctx context.Context, tx *sql.Tx, users []ciphemic.User, withIDs bool) error {
	for i, u := range users {
		if (u.ID > 0 && !imp.renumber) != withIDs {
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
	hash, role     string
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

// userTx writes one imported user, under the NFKC form of its username.
func (imp *importRun) userTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) error {
	form := username.Normalize(u.Username)
	pk := u.ID
	ownID := pk // the id the record's own earlier import gave it
	if imp.renumber {
		ownID = imp.djangoIDs[pk]
		u.ID = 0
	}
	id, found, err := imp.names.match(u.Username, form, ownID)
	if err != nil {
		return err
	}
	u.Username = form
	if found {
		imp.res.Updated++
		err = imp.replaceUserTx(ctx, tx, id, u)
	} else {
		imp.res.Created++
		id, err = imp.insertTx(ctx, tx, u)
	}
	if err != nil {
		return err
	}
	imp.names.wrote(id, form)
	if pk > 0 {
		return recordDjangoIDTx(ctx, tx, pk, id)
	}
	return nil
}

// insertTx inserts the new user u, with its own id when it has one, and returns its id.
func (imp *importRun) insertTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) (int64, error) {
	if u.ID > 0 {
		return u.ID, imp.db.insertUserWithIDTx(ctx, tx, u)
	}
	id, err := imp.db.insertUserTx(ctx, tx, u)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET imported_hash_sha256 = $1 WHERE id = $2`,
		hashDigest(u.PasswordHash), id)
	return id, err
}

// replaceUserTx gives the user id every imported field of u (its username too, which
// differs when the stored one predates normalisation), and revokes the user's tokens
// when u takes a role or the account away from them or brings a new password.
func (imp *importRun) replaceUserTx(ctx context.Context, tx *sql.Tx, id int64, u ciphemic.User) error {
	var p priorUser
	err := tx.QueryRowContext(ctx, `SELECT password_hash, role, is_active, imported_hash_sha256
		FROM users WHERE id = $1`, id).Scan(&p.hash, &p.role, &p.active, &p.importedDigest)
	if err != nil {
		return err
	}
	newPassword := p.newPassword(u.PasswordHash)
	hash := p.hash
	if newPassword {
		hash = u.PasswordHash
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET username = $1, email = $2, first_name = $3,
		last_name = $4, password_hash = $5, role = $6, is_active = $7, date_joined = $8,
		last_login = $9, imported_hash_sha256 = $10, changed_at = $12 WHERE id = $11`,
		u.Username, u.Email, u.FirstName, u.LastName, hash, string(u.Role), u.IsActive,
		micros(u.DateJoined), nullMicros(u.LastLogin), hashDigest(u.PasswordHash), id, micros(imp.now))
	if imp.db.kind(err) == KindUnique {
		return errUsernameTaken // by a user created since the import read the names
	}
	if err != nil {
		return err
	}
	if !newPassword && string(u.Role) == p.role && (u.IsActive || !p.active) {
		return nil
	}
	imp.res.Revoked = append(imp.res.Revoked, u.Username)
	return imp.db.revokeUserTx(ctx, tx, id, imp.revokeAt, imp.until)
}

// insertUserWithIDTx inserts the new user u with its own u.ID, which must be free.
func (db *DB) insertUserWithIDTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) error {
	errTaken := ciphemic.Errorf(ciphemic.CodeConflict, "id %d is taken by another user", u.ID)
	var holder string
	err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE id = $1`, u.ID).Scan(&holder)
	switch {
	case err == nil:
		return idTakenError(u.ID, holder)
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
