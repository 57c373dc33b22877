package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// SpentError is the error of presenting a refresh token that was already spent: rotated
// with blacklist-after-rotation, logged out, or ended with its family or its user. It
// matches ciphemic.ErrTokenBlacklisted, so a caller that does not care answers the
// contract's "Token is blacklisted"; a caller that detects reuse (RFC 9700 §4.14) reads
// the token's record from it: its family, and, when rotation spent it, its successor and
// the instant of the rotation.
type SpentError struct {
	// Token is the spent token's record: BlacklistedAt is when it was spent, ReplacedBy
	// its successor when rotation spent it.
	Token ciphemic.RefreshToken
	// UserRevoked reports that the token was issued at or before its user's
	// TokensValidAfter: a user-level revocation (revoke-all, password change,
	// deactivation) ended it together with every other token of the user.
	UserRevoked bool
}

// Error says what happened without naming the token.
func (e *SpentError) Error() string { return "refresh token already spent" }

// Unwrap makes a SpentError match ciphemic.ErrTokenBlacklisted.
func (e *SpentError) Unwrap() error { return ciphemic.ErrTokenBlacklisted }

// SpentToken returns Token. With RevokedWithUser it lets a package that does not import
// the store read a SpentError through an interface of its own.
func (e *SpentError) SpentToken() ciphemic.RefreshToken { return e.Token }

// RevokedWithUser returns UserRevoked.
func (e *SpentError) RevokedWithUser() bool { return e.UserRevoked }

// spentQ returns the SpentError of the blacklisted token s.
func spentQ(ctx context.Context, q querier, s tokenState) error {
	var validAfter sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT tokens_valid_after FROM users WHERE id = $1`, s.userID).
		Scan(&validAfter)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return &SpentError{Token: s.record(), UserRevoked: validAfter.Valid && s.issuedAt <= validAfter.Int64}
}

// RevokeFamily ends the rotation family familyID of user userID, as reuse detection does
// when a spent refresh token comes back: in one transaction it blacklists, as of at, every
// live refresh token of the family, and logs a family revocation that matters until until,
// so that every instance's revocation view refuses the family's access tokens. Revoking a
// family again is not an error: the one entry per family is re-announced (its CreatedAt
// becomes now) and its until moves forward, never back, so replays cannot grow the log.
func (db *DB) RevokeFamily(ctx context.Context, familyID string, userID int64, at, until time.Time) error {
	if familyID == "" {
		return db.fail("revoke family", ciphemic.Errorf(ciphemic.CodeInvalid, "A family id is required."))
	}
	return db.update(ctx, "revoke family", func(tx *sql.Tx) error {
		return db.revokeFamilyTx(ctx, tx, familyID, userID, at, until)
	})
}

func (db *DB) revokeFamilyTx(ctx context.Context, tx *sql.Tx, familyID string, userID int64, at, until time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET blacklisted_at = $1
		WHERE family_id = $2 AND blacklisted_at IS NULL AND expires_at > $1`,
		micros(at), familyID)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO revocations (user_id, family_id, expires_at, created_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (family_id) WHERE family_id IS NOT NULL DO UPDATE SET
			expires_at = CASE WHEN excluded.expires_at > revocations.expires_at
				THEN excluded.expires_at ELSE revocations.expires_at END,
			created_at = excluded.created_at`,
		userID, familyID, micros(until), micros(db.clock()))
	return err
}
