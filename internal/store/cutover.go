package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// simplejwt 5.2 records a refresh token only when it issues one at a login or blacklists
// one; the token a rotation hands out is in no table until it is spent. So the refresh
// token most Django clients hold at the cut-over is in no dump, and refusing it would log
// them out. Instead the store accepts such a token once: a token of the Django server,
// issued before the recorded cut-over, is recorded when first presented, in the same
// transaction that spends it, and from then on is a known token like any other. Only
// during the refresh lifetime after the cut-over, since every token Django issued before
// it has expired by then.

// recordCutoverTx records at as the cut-over time.
func recordCutoverTx(ctx context.Context, tx *sql.Tx, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO django_cutover (id, cutover_at) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET cutover_at = excluded.cutover_at`, micros(at))
	return err
}

// Cutover returns the cut-over time import-tokens recorded; ok is false when it never ran.
func (db *DB) Cutover(ctx context.Context) (at time.Time, ok bool, err error) {
	return cutoverQ(ctx, db.read)
}

func cutoverQ(ctx context.Context, q querier) (time.Time, bool, error) {
	var at int64
	err := q.QueryRowContext(ctx, `SELECT cutover_at FROM django_cutover WHERE id = 1`).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return fromMicros(at), true, nil
}

// RotateDjangoRefreshToken is RotateSessionRefreshToken for old, a refresh token the
// Django server issued (old.UserID already resolved by DjangoUserID). When the store
// does not know old.JTI, a cut-over is recorded, old was issued before it and now is
// before the cut-over plus window, old is recorded (of its own family, old.FamilyID) and
// spent in one transaction: of concurrent uses exactly one wins, as with a known token,
// and the others find it spent. Otherwise an unknown token is ErrTokenUnknown, and a
// known one is rotated as RotateSessionRefreshToken rotates it. A nil touch records no
// session.
func (db *DB) RotateDjangoRefreshToken(ctx context.Context, old, next ciphemic.RefreshToken, blacklistOld bool, now time.Time, window time.Duration, e ciphemic.AuditEvent, touch *ciphemic.Session) (ciphemic.User, error) {
	old, err := db.prepareToken(old)
	if err != nil {
		return ciphemic.User{}, db.fail("rotate django refresh token", err)
	}
	rot := &rotation{oldJTI: old.JTI, wantFamily: next.FamilyID, blacklist: blacklistOld, now: now, audit: e, touch: touch,
		adopt: &adoption{token: old, window: window}}
	return db.rotateRefreshToken(ctx, rot, next)
}

// adoption is a Django refresh token a rotation records first when the store has none
// of it (RotateDjangoRefreshToken).
type adoption struct {
	token  ciphemic.RefreshToken
	window time.Duration
}

// BlacklistDjangoRefreshToken is BlacklistRefreshToken (logout) for old, a refresh token
// the Django server issued, which it records first under the rules of
// RotateDjangoRefreshToken: logging out with the token Django last handed out must end it.
func (db *DB) BlacklistDjangoRefreshToken(ctx context.Context, old ciphemic.RefreshToken, now time.Time, window time.Duration) error {
	const op = "blacklist django refresh token"
	old, err := db.prepareToken(old)
	if err != nil {
		return db.fail(op, err)
	}
	return db.update(ctx, op, func(tx *sql.Tx) error {
		if err := db.adoptTx(ctx, tx, old, now, window); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET blacklisted_at = $1
			WHERE jti = $2 AND blacklisted_at IS NULL AND expires_at > $1`, micros(now), old.JTI)
		if err != nil {
			return err
		}
		return classifyUnspent(ctx, tx, res, old.JTI, now)
	})
}

// UseDjangoRefreshToken is UseRefreshToken for old, a refresh token the Django server
// issued (old.UserID already resolved by DjangoUserID): one the store does not know is
// usable when RotateDjangoRefreshToken would accept it, and its user may use it. Nothing
// is recorded: verify vouches for the token, the refresh that follows spends it.
func (db *DB) UseDjangoRefreshToken(ctx context.Context, old ciphemic.RefreshToken, now time.Time, window time.Duration) (ciphemic.User, error) {
	const op = "use django refresh token"
	u, err := db.UseRefreshToken(ctx, old.JTI, now)
	if !errors.Is(err, ciphemic.ErrTokenUnknown) {
		return u, err
	}
	if _, recErr := db.RefreshToken(ctx, old.JTI); ciphemic.ErrorCode(recErr) != ciphemic.CodeNotFound {
		return ciphemic.User{}, err // recorded, and unknown for another reason (its user is gone)
	}
	cutover, ok, cutErr := cutoverQ(ctx, db.read)
	switch {
	case cutErr != nil:
		return ciphemic.User{}, db.fail(op, cutErr)
	case !ok || !old.IssuedAt.Before(cutover) || !now.Before(cutover.Add(window)) || !old.ExpiresAt.After(now):
		return ciphemic.User{}, err
	}
	u, err = tokenUserQ(ctx, boundQuery{db.read, tokenUserQuery}, tokenState{userID: old.UserID, issuedAt: micros(old.IssuedAt)})
	if err != nil {
		return ciphemic.User{}, db.fail(op, err)
	}
	return u, nil
}

// adoptTx records the unknown Django refresh token old, live and unspent, when the
// cut-over rules allow it, and does nothing otherwise. A concurrent transaction that
// recorded it first wins: this one then finds it recorded, and spent.
func (db *DB) adoptTx(ctx context.Context, tx *sql.Tx, old ciphemic.RefreshToken, now time.Time, window time.Duration) error {
	cutover, ok, err := cutoverQ(ctx, tx)
	if err != nil || !ok || !old.IssuedAt.Before(cutover) || !now.Before(cutover.Add(window)) || !old.ExpiresAt.After(now) {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens
		(jti, user_id, family_id, issued_at, expires_at, blacklisted_at, replaced_by)
		VALUES ($1, $2, $3, $4, $5, NULL, NULL) ON CONFLICT (jti) DO NOTHING`,
		old.JTI, old.UserID, old.FamilyID, micros(old.IssuedAt), micros(old.ExpiresAt))
	if db.kind(err) == KindForeignKey {
		return ciphemic.ErrTokenUnknown // its user is gone
	}
	return err
}
