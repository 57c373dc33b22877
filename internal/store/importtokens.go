package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// DjangoToken is a refresh token simplejwt recorded (token_blacklist.OutstandingToken,
// with its BlacklistedToken when it has one). Its text is never needed: the jti names it.
type DjangoToken struct {
	JTI string
	// DjangoUserID is the pk of its user in Django, resolved as DjangoUserID does.
	DjangoUserID        int64
	IssuedAt, ExpiresAt time.Time
	// BlacklistedAt is zero for a token that is not blacklisted.
	BlacklistedAt time.Time
}

// TokenImportResult is what ImportDjangoTokens did.
type TokenImportResult struct {
	// Created and Updated count the tokens recorded, new or already known; Expired those
	// skipped because they had expired.
	Created, Updated, Expired int
}

// ImportDjangoTokens records simplejwt's refresh tokens in one transaction, all or
// nothing, and records cutoverAt as the cut-over time (RotateDjangoRefreshToken). Each
// live token becomes a refresh-token record of its own family, blacklisted when Django
// had blacklisted it; an expired one is skipped and counted. A rerun is idempotent: a
// known jti is left as it is, except that a blacklisting the dump brings is recorded.
// A token whose user was not imported, or whose jti is recorded for another user, is
// CodeConflict naming the token, and nothing is written.
func (db *DB) ImportDjangoTokens(ctx context.Context, tokens []DjangoToken, cutoverAt time.Time) (TokenImportResult, error) {
	now := db.clock()
	var res TokenImportResult
	for _, t := range tokens {
		if t.JTI == "" || t.ExpiresAt.IsZero() || (t.DjangoUserID <= 0 && t.ExpiresAt.After(now)) {
			return res, db.fail("import tokens", ciphemic.Errorf(ciphemic.CodeInvalid,
				"token %q: a live token needs a jti, a user and an expiry", t.JTI))
		}
	}
	err := db.update(ctx, "import tokens", func(tx *sql.Tx) error {
		res = TokenImportResult{}
		ids, err := djangoIDsQ(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if !t.ExpiresAt.After(now) {
				res.Expired++
				continue
			}
			created, err := importTokenTx(ctx, tx, ids, t, now)
			if err != nil {
				return err
			}
			if created {
				res.Created++
			} else {
				res.Updated++
			}
		}
		return recordCutoverTx(ctx, tx, cutoverAt)
	})
	if err != nil {
		return TokenImportResult{}, err
	}
	return res, nil
}

// importTokenTx records t, or the blacklisting t brings to its record, and reports
// whether the record is new.
func importTokenTx(ctx context.Context, tx *sql.Tx, ids map[int64]int64, t DjangoToken, now time.Time) (bool, error) {
	userID, ok := resolveDjangoID(ids, t.DjangoUserID)
	if ok {
		var err error
		if ok, err = userExistsTx(ctx, tx, userID); err != nil {
			return false, err
		}
	}
	if !ok {
		return false, ciphemic.Errorf(ciphemic.CodeConflict,
			"token %s: its user, Django pk %d, was not imported (run import-users with the same dump of auth.user first)",
			t.JTI, t.DjangoUserID)
	}
	issued := t.IssuedAt
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	s, err := tokenStateQ(ctx, tx, t.JTI)
	switch {
	case errors.Is(err, ciphemic.ErrTokenUnknown):
		_, err = tx.ExecContext(ctx, insertTokenQuery, t.JTI, userID, t.JTI, micros(issued),
			micros(t.ExpiresAt), nullMicros(t.BlacklistedAt), sql.NullString{})
		return true, err
	case err != nil:
		return false, err
	case s.userID != userID:
		return false, ciphemic.Errorf(ciphemic.CodeConflict,
			"token %s: recorded for user %d already, the dump gives it to Django pk %d", t.JTI, s.userID, t.DjangoUserID)
	}
	if !t.BlacklistedAt.IsZero() {
		_, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET blacklisted_at = $1
			WHERE jti = $2 AND blacklisted_at IS NULL`, micros(t.BlacklistedAt), t.JTI)
	}
	return false, err
}
