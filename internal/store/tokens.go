package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

var errJTITaken = ciphemic.Errorf(ciphemic.CodeConflict, "A token with that jti already exists.")

// querier is a *sql.DB or a *sql.Tx, so that one check serves reads and transactions.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tokenState is a refresh_tokens row: what decides whether it may be used, and what a
// caller needs to know of a spent one.
type tokenState struct {
	jti         string
	userID      int64
	familyID    string
	issuedAt    int64
	expiresAt   int64
	blacklisted sql.NullInt64
	replacedBy  sql.NullString
}

// record returns the row as the domain's RefreshToken.
func (s tokenState) record() ciphemic.RefreshToken {
	return ciphemic.RefreshToken{
		JTI: s.jti, UserID: s.userID, FamilyID: s.familyID,
		IssuedAt: fromMicros(s.issuedAt), ExpiresAt: fromMicros(s.expiresAt),
		BlacklistedAt: fromNullMicros(s.blacklisted), ReplacedBy: s.replacedBy.String,
	}
}

// check returns the error of a token that may not be used at now, nil for a live one.
// Expiry is checked first, as simplejwt checks exp before consulting the blacklist.
func (s tokenState) check(now time.Time) error {
	switch {
	case s.expiresAt <= micros(now):
		return ciphemic.ErrTokenUnknown
	case s.blacklisted.Valid:
		return ciphemic.ErrTokenBlacklisted
	}
	return nil
}

func tokenStateQ(ctx context.Context, q querier, jti string) (tokenState, error) {
	s := tokenState{jti: jti}
	err := q.QueryRowContext(ctx, `SELECT user_id, family_id, issued_at, expires_at, blacklisted_at,
		replaced_by FROM refresh_tokens WHERE jti = $1`, jti).
		Scan(&s.userID, &s.familyID, &s.issuedAt, &s.expiresAt, &s.blacklisted, &s.replacedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ciphemic.ErrTokenUnknown
	}
	return s, err
}

// liveStateQ returns the row of the token jti when it may be used at now, and otherwise
// the error that forbids it: ErrTokenUnknown (missing or expired) or, for a blacklisted
// token, its *SpentError.
func liveStateQ(ctx context.Context, q querier, jti string, now time.Time) (tokenState, error) {
	s, err := tokenStateQ(ctx, q, jti)
	if err == nil {
		err = s.check(now)
	}
	if errors.Is(err, ciphemic.ErrTokenBlacklisted) {
		err = spentQ(ctx, q, s)
	}
	return s, err
}

// tokenUserQuery reads the user of a token; tokenUserQ runs it.
const tokenUserQuery = `SELECT ` + userColumns + ` FROM users WHERE id = $1`

// rowQuerier is a statement that reads one row: a prepared *sql.Stmt, or boundQuery.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// boundQuery runs query on q, for callers without a prepared statement.
type boundQuery struct {
	q     querier
	query string
}

func (b boundQuery) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return b.q.QueryRowContext(ctx, b.query, args...)
}

// tokenUserQ returns the user of a token that passed its own checks, or the error that
// forbids the user from using it; q runs tokenUserQuery.
func tokenUserQ(ctx context.Context, q rowQuerier, s tokenState) (ciphemic.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, s.userID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ciphemic.User{}, ciphemic.ErrTokenUnknown
	case err != nil:
		return ciphemic.User{}, err
	case !u.IsActive:
		return ciphemic.User{}, ciphemic.ErrUserInactive
	case !u.TokensValidAfter.IsZero() && s.issuedAt <= micros(u.TokensValidAfter):
		return ciphemic.User{}, ciphemic.ErrTokenBlacklisted
	}
	return u, nil
}

// prepareToken validates t and fills in its defaults.
func (db *DB) prepareToken(t ciphemic.RefreshToken) (ciphemic.RefreshToken, error) {
	if t.JTI == "" || t.ExpiresAt.IsZero() {
		return t, ciphemic.Errorf(ciphemic.CodeInvalid, "A refresh token needs a jti and an expiry.")
	}
	if t.FamilyID == "" {
		t.FamilyID = t.JTI
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = db.clock()
	}
	return t, nil
}

// CreateRefreshToken records an issued refresh token. An empty FamilyID starts a new
// family named by the token's own JTI; a zero IssuedAt becomes now. A duplicate JTI is
// CodeConflict, an unknown user CodeNotFound.
func (db *DB) CreateRefreshToken(ctx context.Context, t ciphemic.RefreshToken) error {
	t, err := db.prepareToken(t)
	if err != nil {
		return db.fail("create refresh token", err)
	}
	return db.update(ctx, "create refresh token", func(tx *sql.Tx) error {
		return db.insertTokenTx(ctx, tx, t)
	})
}

// insertTokenQuery records a refresh token.
// #nosec G101 -- an SQL statement naming the table, no credential
const insertTokenQuery = `INSERT INTO refresh_tokens
	(jti, user_id, family_id, issued_at, expires_at, blacklisted_at, replaced_by)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

func (db *DB) insertTokenTx(ctx context.Context, tx *sql.Tx, t ciphemic.RefreshToken) error {
	replaced := sql.NullString{String: t.ReplacedBy, Valid: t.ReplacedBy != ""}
	_, err := db.txStmt(ctx, tx, insertTokenQuery).ExecContext(ctx, t.JTI, t.UserID, t.FamilyID, micros(t.IssuedAt),
		micros(t.ExpiresAt), nullMicros(t.BlacklistedAt), replaced)
	switch db.kind(err) {
	case KindUnique:
		return errJTITaken
	case KindForeignKey:
		return errNotFound
	}
	return err
}

// RefreshToken returns the record of the refresh token jti, or CodeNotFound.
func (db *DB) RefreshToken(ctx context.Context, jti string) (ciphemic.RefreshToken, error) {
	var (
		t               ciphemic.RefreshToken
		issued, expires int64
		blacklisted     sql.NullInt64
		replaced        sql.NullString
	)
	err := db.read.QueryRowContext(ctx, `SELECT jti, user_id, family_id, issued_at, expires_at,
		blacklisted_at, replaced_by FROM refresh_tokens WHERE jti = $1`, jti).
		Scan(&t.JTI, &t.UserID, &t.FamilyID, &issued, &expires, &blacklisted, &replaced)
	if err != nil {
		return ciphemic.RefreshToken{}, db.fail("refresh token", err)
	}
	t.IssuedAt, t.ExpiresAt = fromMicros(issued), fromMicros(expires)
	t.BlacklistedAt, t.ReplacedBy = fromNullMicros(blacklisted), replaced.String
	return t, nil
}

// UseRefreshToken checks, without rotating it, that the refresh token jti exists, is
// neither blacklisted nor expired at now, was issued after the user's TokensValidAfter,
// and that its user exists and is active; it returns that user. A blacklisted token's
// error is a *SpentError.
func (db *DB) UseRefreshToken(ctx context.Context, jti string, now time.Time) (ciphemic.User, error) {
	_, u, err := db.liveToken(ctx, "use refresh token", jti, now)
	return u, err
}

// LiveRefreshToken is UseRefreshToken that also returns the token's record, so that a
// caller can sign the token again (the reuse grace window hands out a successor twice).
func (db *DB) LiveRefreshToken(ctx context.Context, jti string, now time.Time) (ciphemic.RefreshToken, ciphemic.User, error) {
	return db.liveToken(ctx, "live refresh token", jti, now)
}

func (db *DB) liveToken(ctx context.Context, op, jti string, now time.Time) (ciphemic.RefreshToken, ciphemic.User, error) {
	s, err := liveStateQ(ctx, db.read, jti, now)
	if err != nil {
		return ciphemic.RefreshToken{}, ciphemic.User{}, db.fail(op, err)
	}
	u, err := tokenUserQ(ctx, boundQuery{db.read, tokenUserQuery}, s)
	if err != nil {
		return ciphemic.RefreshToken{}, ciphemic.User{}, db.fail(op, err)
	}
	return s.record(), u, nil
}

// RotateRefreshToken spends the refresh token oldJTI and records next, of the same user
// and family, in one write transaction, and returns the user. With blacklistOld the old
// token is blacklisted, so of several concurrent rotations of one token exactly one
// succeeds; without it the old token stays usable and only points at its successor.
// next.UserID and next.FamilyID are taken from the old token (a different non-zero
// UserID or non-empty FamilyID is ErrTokenUnknown: the caller signed the successor for
// another session) and a zero next.IssuedAt becomes now. Errors are those of UseRefreshToken; an
// old token already spent gives a *SpentError. On any error nothing is written.
func (db *DB) RotateRefreshToken(ctx context.Context, oldJTI string, next ciphemic.RefreshToken, blacklistOld bool, now time.Time) (ciphemic.User, error) {
	return db.RotateRefreshTokenAudited(ctx, oldJTI, next, blacklistOld, now, ciphemic.AuditEvent{})
}

// RotateRefreshTokenAudited is RotateRefreshToken that also records the audit event e
// (unless its Kind is empty) in the same transaction, so that the event is stored
// exactly when the rotation is, at the cost of one statement instead of a transaction
// of its own.
func (db *DB) RotateRefreshTokenAudited(ctx context.Context, oldJTI string, next ciphemic.RefreshToken, blacklistOld bool, now time.Time, e ciphemic.AuditEvent) (ciphemic.User, error) {
	return db.rotateRefreshToken(ctx, &rotation{oldJTI: oldJTI, wantFamily: next.FamilyID, blacklist: blacklistOld, now: now, audit: e}, next)
}

// RotateSessionRefreshToken is RotateRefreshTokenAudited that also records the refresh
// in its session (as TouchSession does) in the same transaction: a refresh is then one
// write transaction, shared with other rotations where the backend batches them, not two.
func (db *DB) RotateSessionRefreshToken(ctx context.Context, oldJTI string, next ciphemic.RefreshToken, blacklistOld bool, now time.Time, e ciphemic.AuditEvent, touch ciphemic.Session) (ciphemic.User, error) {
	return db.rotateRefreshToken(ctx, &rotation{oldJTI: oldJTI, wantFamily: next.FamilyID, blacklist: blacklistOld, now: now, audit: e, touch: &touch}, next)
}

func (db *DB) rotateRefreshToken(ctx context.Context, rot *rotation, next ciphemic.RefreshToken) (ciphemic.User, error) {
	if next.IssuedAt.IsZero() {
		next.IssuedAt = rot.now
	}
	var err error
	rot.next, err = db.prepareToken(next)
	if err == nil && rot.audit.Kind != "" && !rot.audit.Kind.Valid() {
		err = ciphemic.Errorf(ciphemic.CodeInvalid, "kind: %q is not a valid choice.", rot.audit.Kind)
	}
	if err != nil {
		return ciphemic.User{}, db.fail("rotate refresh token", err)
	}
	// An adoption runs alone: its INSERT … ON CONFLICT writes before the rotation's checks,
	// which a transaction shared with the rotations of other tokens must not do.
	if db.rotations != nil && rot.adopt == nil {
		return db.rotations.rotate(ctx, rot)
	}
	err = db.update(ctx, "rotate refresh token", func(tx *sql.Tx) error {
		if a := rot.adopt; a != nil {
			if err := db.adoptTx(ctx, tx, a.token, rot.now, a.window); err != nil {
				return err
			}
		}
		return db.rotateTx(ctx, tx, rot)
	})
	if err != nil {
		return ciphemic.User{}, err
	}
	return rot.user, nil
}

// rotation is one RotateRefreshTokenAudited call: what it asks, and the user it got.
type rotation struct {
	oldJTI     string
	next       ciphemic.RefreshToken
	wantFamily string
	blacklist  bool
	now        time.Time
	audit      ciphemic.AuditEvent
	// touch, when set, is the session's record after this refresh (RotateSessionRefreshToken).
	touch *ciphemic.Session
	// adopt, when set, is recorded first if the store has no record of it.
	adopt *adoption
	user  ciphemic.User
}

// rotateTx runs rot in tx and sets rot.user. The spend comes first: on PostgreSQL the row
// lock its UPDATE takes decides, in one round trip, which of concurrent rotations of a
// token wins. A check that fails after it leaves the spend to the transaction's rollback.
func (db *DB) rotateTx(ctx context.Context, tx *sql.Tx, rot *rotation) error {
	s, err := db.spendReturningTx(ctx, tx, rot.oldJTI, rot.next.JTI, rot.blacklist, rot.now)
	if err != nil {
		return err
	}
	if err := db.admitRotationTx(ctx, tx, rot, s); err != nil {
		return err
	}
	return db.recordRotationTx(ctx, tx, rot, s)
}

// rotateCheckedTx is rotateTx for a transaction that other rotations share (the SQLite
// batcher): its spend also requires what admitRotationTx checks, so a refused rotation
// (refused, with rotateTx's error) has written nothing and needs no savepoint to be undone
// alone. Any other error (a write after the spend, or the store failing) means the
// transaction must not commit.
func (db *DB) rotateCheckedTx(ctx context.Context, tx *sql.Tx, rot *rotation) (refused bool, err error) {
	q := rotateAdmittedQuery
	if rot.blacklist {
		q = rotateAdmittedBlacklistQuery
	}
	s := tokenState{jti: rot.oldJTI}
	err = db.txStmt(ctx, tx, q).QueryRowContext(ctx, rot.next.JTI, rot.oldJTI, micros(rot.now), rot.next.UserID, rot.wantFamily).
		Scan(&s.userID, &s.familyID, &s.issuedAt, &s.expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.refusalTx(ctx, tx, rot)
		return isRefusal(err), err
	}
	if err != nil {
		// A driver error may have rolled the whole transaction back (SQLite does on I/O
		// errors): the batch must not go on as if it had not.
		return false, err
	}
	// Go's checks stay the authority; should the SQL above ever admit what they refuse,
	// the spend is rolled back with the batch.
	if err := db.admitRotationTx(ctx, tx, rot, s); err != nil {
		return false, err
	}
	return false, db.recordRotationTx(ctx, tx, rot, s)
}

// isRefusal reports whether err is a rotation's answer about its token or user (spent,
// unknown, inactive, revoked) rather than a failure of the store.
func isRefusal(err error) bool {
	return errors.Is(err, ciphemic.ErrTokenBlacklisted) || errors.Is(err, ciphemic.ErrTokenUnknown) ||
		errors.Is(err, ciphemic.ErrUserInactive)
}

// refusalTx is why the spend of rotateCheckedTx found nothing to spend: the error rotateTx
// gives for the same token.
func (db *DB) refusalTx(ctx context.Context, tx *sql.Tx, rot *rotation) error {
	s, err := liveStateQ(ctx, tx, rot.oldJTI, rot.now)
	if err != nil {
		return err
	}
	if err := db.admitRotationTx(ctx, tx, rot, s); err != nil {
		return err
	}
	return errChangedWhileSpent
}

// admitRotationTx makes the checks of rot that need the spent token's record s: its user
// may use it (and is rot.user from now on), and the successor and the session record are
// of its user and family.
func (db *DB) admitRotationTx(ctx context.Context, tx *sql.Tx, rot *rotation, s tokenState) error {
	var err error
	if rot.user, err = tokenUserQ(ctx, db.txStmt(ctx, tx, tokenUserQuery), s); err != nil {
		return err
	}
	next := rot.next
	if (next.UserID != 0 && next.UserID != s.userID) || (rot.wantFamily != "" && rot.wantFamily != s.familyID) {
		return ciphemic.ErrTokenUnknown
	}
	if rot.touch != nil && (rot.touch.UserID != s.userID || rot.touch.ID != s.familyID) {
		return ciphemic.ErrTokenUnknown // a session record for another token's session
	}
	return nil
}

// recordRotationTx writes what an admitted rotation of the token s leaves: the successor,
// the session's record and the audit event.
func (db *DB) recordRotationTx(ctx context.Context, tx *sql.Tx, rot *rotation, s tokenState) error {
	next := rot.next
	next.UserID, next.FamilyID = s.userID, s.familyID
	if err := db.insertTokenTx(ctx, tx, next); err != nil {
		return err
	}
	if rot.touch != nil {
		if err := db.upsertSessionTx(ctx, tx, *rot.touch); err != nil {
			return err
		}
	}
	if rot.audit.Kind == "" {
		return nil
	}
	return db.recordAuditTx(ctx, tx, rot.audit)
}

// spendReturningTx marks oldJTI as replaced by nextJTI, and blacklisted when blacklist is
// set, in one conditional UPDATE: the row it returns, not a prior read, decides whether
// this caller won, which keeps concurrent rotations of one token exactly-once; and it
// returns the spent token's record, sparing a read.
func (db *DB) spendReturningTx(ctx context.Context, tx *sql.Tx, oldJTI, nextJTI string, blacklist bool, now time.Time) (tokenState, error) {
	q := rotateQuery
	if blacklist {
		q = rotateBlacklistQuery
	}
	s := tokenState{jti: oldJTI}
	err := db.txStmt(ctx, tx, q).QueryRowContext(ctx, nextJTI, oldJTI, micros(now)).
		Scan(&s.userID, &s.familyID, &s.issuedAt, &s.expiresAt)
	if !errors.Is(err, sql.ErrNoRows) {
		return s, err
	}
	return s, classifyUnspent(ctx, tx, zeroRows{}, oldJTI, now)
}

// rotateQuery and rotateBlacklistQuery are spendReturningTx's UPDATEs.
const (
	rotateQuery = `UPDATE refresh_tokens SET replaced_by = $1
		WHERE jti = $2 AND blacklisted_at IS NULL AND expires_at > $3
		RETURNING user_id, family_id, issued_at, expires_at`
	rotateBlacklistQuery = `UPDATE refresh_tokens SET replaced_by = $1, blacklisted_at = $3
		WHERE jti = $2 AND blacklisted_at IS NULL AND expires_at > $3
		RETURNING user_id, family_id, issued_at, expires_at`
)

// rotateAdmittedQuery and rotateAdmittedBlacklistQuery are rotateQuery and
// rotateBlacklistQuery that spend only a token that admitRotationTx would let rotate: of
// the successor's user ($4, 0 for any) and family ($5, ” for any), of an active user
// who has not revoked it (tokenUserQ's rules).
const (
	admittedCond = ` AND ($4 = 0 OR user_id = $4) AND ($5 = '' OR family_id = $5)
		AND EXISTS (SELECT 1 FROM users u WHERE u.id = refresh_tokens.user_id AND u.is_active
			AND (u.tokens_valid_after IS NULL OR refresh_tokens.issued_at > u.tokens_valid_after))`
	spentReturning = `
		RETURNING user_id, family_id, issued_at, expires_at`
	rotateAdmittedQuery = `UPDATE refresh_tokens SET replaced_by = $1
		WHERE jti = $2 AND blacklisted_at IS NULL AND expires_at > $3` + admittedCond + spentReturning
	rotateAdmittedBlacklistQuery = `UPDATE refresh_tokens SET replaced_by = $1, blacklisted_at = $3
		WHERE jti = $2 AND blacklisted_at IS NULL AND expires_at > $3` + admittedCond + spentReturning
)

// zeroRows is the result of an UPDATE that touched no row.
type zeroRows struct{}

func (zeroRows) LastInsertId() (int64, error) { return 0, errors.New("no insert") }
func (zeroRows) RowsAffected() (int64, error) { return 0, nil }

// classifyUnspent returns nil when res touched a row and otherwise why the token jti
// could not be spent.
func classifyUnspent(ctx context.Context, tx *sql.Tx, res sql.Result, jti string, now time.Time) error {
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return err
	}
	if _, err := liveStateQ(ctx, tx, jti, now); err != nil {
		return err
	}
	return errChangedWhileSpent
}

// errChangedWhileSpent is a spend that found nothing to spend although the token's row,
// read right after in the same transaction, says there was: the store itself is wrong.
var errChangedWhileSpent = errors.New("refresh token changed while being spent")

// BlacklistRefreshToken blacklists the refresh token jti as of now (logout). An already
// blacklisted token is a *SpentError (ErrTokenBlacklisted); a missing or expired one
// ErrTokenUnknown.
func (db *DB) BlacklistRefreshToken(ctx context.Context, jti string, now time.Time) error {
	return db.update(ctx, "blacklist refresh token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET blacklisted_at = $1
			WHERE jti = $2 AND blacklisted_at IS NULL AND expires_at > $1`, micros(now), jti)
		if err != nil {
			return err
		}
		return classifyUnspent(ctx, tx, res, jti, now)
	})
}
