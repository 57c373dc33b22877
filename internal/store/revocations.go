package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// RevokeAccessToken records the access token jti of userID as revoked until expiresAt,
// when it expires anyway. Revoking the same jti again is not an error.
func (db *DB) RevokeAccessToken(ctx context.Context, jti string, userID int64, expiresAt time.Time) error {
	if jti == "" {
		return db.fail("revoke access token", ciphemic.Errorf(ciphemic.CodeInvalid, "A jti is required."))
	}
	return db.update(ctx, "revoke access token", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO revocations (jti, user_id, expires_at, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			jti, userID, micros(expiresAt), micros(db.clock()))
		return err
	})
}

// RevokeUser ends every token of the user issued up to validAfter: it moves the user's
// TokensValidAfter forward to validAfter (never back), blacklists every live refresh
// token of the user as of validAfter, and logs a user-level revocation that matters
// until until, for the other instances to replay. A missing user is CodeNotFound.
func (db *DB) RevokeUser(ctx context.Context, userID int64, validAfter, until time.Time) error {
	err := db.update(ctx, "revoke user", func(tx *sql.Tx) error {
		return db.revokeUserTx(ctx, tx, userID, validAfter, until)
	})
	db.users.forget(userID)
	return err
}

func (db *DB) revokeUserTx(ctx context.Context, tx *sql.Tx, userID int64, validAfter, until time.Time) error {
	va, now := micros(validAfter), micros(db.clock())
	res, err := tx.ExecContext(ctx, `UPDATE users SET tokens_valid_after = $1, changed_at = $3
		WHERE id = $2 AND (tokens_valid_after IS NULL OR tokens_valid_after < $1)`, va, userID, now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		// Either the user is missing or already revoked later; only the first is an error.
		if _, err := userTx(ctx, tx, userID); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET blacklisted_at = $1
		WHERE user_id = $2 AND blacklisted_at IS NULL AND expires_at > $3`, va, userID, now)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO revocations (user_id, valid_after, expires_at, created_at)
		VALUES ($1, $2, $3, $4)`, userID, va, micros(until), now)
	return err
}

// RevocationsSince returns the revocations created at or after since that still matter
// (expire after now), oldest first. User-level ones have an empty JTI and FamilyID.
func (db *DB) RevocationsSince(ctx context.Context, since time.Time) ([]ciphemic.Revocation, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT jti, family_id, user_id, valid_after, expires_at, created_at
		FROM revocations WHERE created_at >= $1 AND expires_at > $2
		ORDER BY created_at, id`, micros(since), micros(db.clock()))
	if err != nil {
		return nil, db.fail("revocations since", err)
	}
	defer rows.Close()
	var rs []ciphemic.Revocation
	for rows.Next() {
		r, err := scanRevocation(rows)
		if err != nil {
			return nil, db.fail("revocations since", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("revocations since", err)
	}
	if err := db.forgetUsersChangedSince(ctx, since, rs); err != nil {
		return nil, db.fail("revocations since", err)
	}
	return rs, nil
}

func scanRevocation(row scanner) (ciphemic.Revocation, error) {
	var (
		r                ciphemic.Revocation
		jti, family      sql.NullString
		validAfter       sql.NullInt64
		expires, created int64
	)
	if err := row.Scan(&jti, &family, &r.UserID, &validAfter, &expires, &created); err != nil {
		return r, err
	}
	r.JTI, r.FamilyID, r.ValidAfter = jti.String, family.String, fromNullMicros(validAfter)
	r.ExpiresAt, r.CreatedAt = fromMicros(expires), fromMicros(created)
	return r, nil
}
