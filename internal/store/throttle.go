package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"math"
	"time"
)

// The failed-login counters of the login back-off live in the store, not in a server's
// memory, so that every instance sharing the database sees and adds to the same count.
// The policy (how many failures are free, how the block grows, its cap) belongs to the
// caller and reaches the store as a function, so the store only counts and records.

// loginKey is the stored key of a username: the hex SHA-256 of it as typed, so that what
// someone typed into the username field (sometimes a password) is never stored as text.
func loginKey(username string) string {
	sum := sha256.Sum256([]byte(username))
	return hex.EncodeToString(sum[:])
}

// LoginBlockedUntil returns until when logins as username are refused, or the zero time
// when they are not refused at now. It only reads, so a flood of attempts against a
// blocked username costs no write. Unknown and existing usernames are treated alike: the
// store never looks at the users table here.
func (db *DB) LoginBlockedUntil(ctx context.Context, username string, now time.Time) (time.Time, error) {
	var blocked sql.NullInt64
	err := db.read.QueryRowContext(ctx,
		`SELECT blocked_until FROM login_failures WHERE username_sha256 = $1`,
		loginKey(username)).Scan(&blocked)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, db.fail("login blocked until", err)
	}
	return blockedAfter(fromNullMicros(blocked), now), nil
}

// RecordLoginFailure counts one failed login as username at now, unless logins as
// username are blocked at now: then it counts nothing, so that an attempt refused for a
// block never extends it. It returns until when logins as username are blocked (the zero
// time when they are not) and whether it counted.
//
// The count is one atomic UPSERT, so concurrent failures on any number of instances each
// count exactly once, and the block one sets stops the next. That lets a caller count an
// attempt before checking its password, and reset the count when the password is right:
// then a burst of concurrent attempts cannot all pass before the first failure is known.
//
// A count whose last failure is forgetAfter or more before now starts again at 1
// (forgetAfter ≤ 0: never). backoff maps the count, this failure included, to the block it
// earns (≤ 0 or a nil backoff: none).
func (db *DB) RecordLoginFailure(ctx context.Context, username string, now time.Time,
	forgetAfter time.Duration, backoff func(failures int) time.Duration) (time.Time, bool, error) {
	key := loginKey(username)
	cutoff := int64(math.MinInt64)
	if forgetAfter > 0 {
		cutoff = micros(now.Add(-forgetAfter))
	}
	var (
		until   time.Time
		counted bool
	)
	err := db.update(ctx, "record login failure", func(tx *sql.Tx) error {
		failures, err := countLoginFailureTx(ctx, tx, key, micros(now), cutoff)
		if errors.Is(err, sql.ErrNoRows) {
			until, err = blockedUntilTx(ctx, tx, key, now)
			return err
		}
		if err != nil {
			return err
		}
		counted = true
		var d time.Duration
		if backoff != nil {
			d = backoff(failures)
		}
		if d <= 0 {
			return nil
		}
		until = fromMicros(micros(now.Add(d)))
		_, err = tx.ExecContext(ctx,
			`UPDATE login_failures SET blocked_until = $1 WHERE username_sha256 = $2`,
			micros(until), key)
		return err
	})
	if err != nil {
		return time.Time{}, false, err
	}
	return until, counted, nil
}

// countLoginFailureTx adds one failure to key's count, or starts it at 1 when the last
// failure is at or before cutoff, and returns the new count; sql.ErrNoRows means key is
// blocked at now and nothing changed. Either way the row stays locked until tx ends, so
// the caller's follow-up statements see no concurrent change.
func countLoginFailureTx(ctx context.Context, tx *sql.Tx, key string, now, cutoff int64) (int, error) {
	const q = `INSERT INTO login_failures (username_sha256, failures, last_failure_at, blocked_until)
		VALUES ($1, 1, $2, NULL)
		ON CONFLICT (username_sha256) DO UPDATE SET
			failures = CASE WHEN login_failures.last_failure_at <= $3 THEN 1
				ELSE login_failures.failures + 1 END,
			blocked_until = NULL,
			last_failure_at = CASE WHEN excluded.last_failure_at > login_failures.last_failure_at
				THEN excluded.last_failure_at ELSE login_failures.last_failure_at END
		WHERE login_failures.blocked_until IS NULL OR login_failures.blocked_until <= $2
		RETURNING failures`
	var failures int64
	if err := tx.QueryRowContext(ctx, q, key, now, cutoff).Scan(&failures); err != nil {
		return 0, err
	}
	return int(min(failures, math.MaxInt32)), nil
}

// blockedUntilTx reads key's block inside tx.
func blockedUntilTx(ctx context.Context, tx *sql.Tx, key string, now time.Time) (time.Time, error) {
	var blocked sql.NullInt64
	err := tx.QueryRowContext(ctx,
		`SELECT blocked_until FROM login_failures WHERE username_sha256 = $1`, key).Scan(&blocked)
	return blockedAfter(fromNullMicros(blocked), now), err
}

// ResetLoginFailures forgets every failure of username (a successful login).
func (db *DB) ResetLoginFailures(ctx context.Context, username string) error {
	return db.update(ctx, "reset login failures", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`DELETE FROM login_failures WHERE username_sha256 = $1`, loginKey(username))
		return err
	})
}

// blockedAfter is until when it lies after now, else the zero time.
func blockedAfter(until, now time.Time) time.Time {
	if until.After(now) {
		return until
	}
	return time.Time{}
}
