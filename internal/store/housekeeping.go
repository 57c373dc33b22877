package store

import (
	"context"
	"database/sql"
	"time"
)

// Housekeeping deletes the rows nothing needs any more: refresh tokens and revocations past
// their expiry, and failed-login counts the throttle has forgotten. It deletes them in
// small batches, each its own short transaction, because a year of traffic leaves millions
// of such rows and one DELETE of them all would hold SQLite's only writer (and on
// PostgreSQL, lock every row) for as long as it runs, stalling every login and refresh.
//
// An expired refresh token's row answers nothing a missing row does not: the store refuses
// a token whose expiry has passed before it looks at the blacklist (tokenState.check), so a
// spent token's record, which reuse detection needs, stays exactly as long as it matters.

// DefaultSweepBatch is the most rows one housekeeping transaction deletes unless told
// otherwise: a request waiting for the writer waits for at most one batch.
const DefaultSweepBatch = 1000

// DefaultSweepPause is the wait between two batches unless told otherwise. It lets the
// requests queued for the writer, in this process or another, have it before the next
// batch, and bounds the share of the writer's time that housekeeping takes.
const DefaultSweepPause = 10 * time.Millisecond

// Sweep says what one housekeeping run deletes and how.
type Sweep struct {
	// Now: refresh tokens and revocations that expired at or before Now are deleted. The
	// zero time means the store's clock.
	Now time.Time
	// LoginFailuresBefore: failed-login counts whose last failure and block both ended at
	// or before it are deleted (FlushLoginFailures). The zero time keeps every count.
	LoginFailuresBefore time.Time
	// Batch is the most rows one transaction deletes; 0 or less: DefaultSweepBatch.
	Batch int
	// Pause is the wait between two batches; 0: DefaultSweepPause; negative: none.
	Pause time.Duration
	// OnBatch, when set, is called after every committed transaction with the table it
	// deleted from and how many rows it deleted (0 for the one that finds none left).
	OnBatch func(table string, deleted int64)
}

// Swept counts the rows one sweep deleted.
type Swept struct {
	RefreshTokens, Revocations, LoginFailures int64
}

// Total is the number of rows deleted from every table.
func (s Swept) Total() int64 {
	return s.RefreshTokens + s.Revocations + s.LoginFailures
}

// sweepTable is the batch delete of one table: its query deletes at most $2 rows whose
// expiry is at or before $1, chosen through the index on that expiry, by primary key.
// DELETE … LIMIT is not standard SQL; a subquery with LIMIT runs on SQLite and PostgreSQL.
type sweepTable struct {
	name, query string
}

var (
	sweepRefreshTokens = sweepTable{"refresh_tokens", `DELETE FROM refresh_tokens WHERE jti IN
		(SELECT jti FROM refresh_tokens WHERE expires_at <= $1 LIMIT $2)`}
	sweepRevocations = sweepTable{"revocations", `DELETE FROM revocations WHERE id IN
		(SELECT id FROM revocations WHERE expires_at <= $1 LIMIT $2)`}
	sweepLoginFailures = sweepTable{"login_failures", `DELETE FROM login_failures WHERE username_sha256 IN
		(SELECT username_sha256 FROM login_failures
			WHERE last_failure_at <= $1 AND (blocked_until IS NULL OR blocked_until <= $1) LIMIT $2)`}
)

// Sweep deletes, in batches of s.Batch rows with s.Pause between them, the expired
// refresh tokens, the expired revocations and, when s.LoginFailuresBefore is set, the
// stale failed-login counts, until none is left, and returns how many rows of each it
// deleted. When ctx ends it stops between batches with ctx's error; the batches already
// committed stay deleted and are counted.
func (db *DB) Sweep(ctx context.Context, s Sweep) (Swept, error) {
	s = s.withDefaults(db.clock)
	var (
		out Swept
		err error
	)
	if out.RefreshTokens, err = db.sweep(ctx, s, sweepRefreshTokens, micros(s.Now)); err != nil {
		return out, err
	}
	if out.Revocations, err = db.sweep(ctx, s, sweepRevocations, micros(s.Now)); err != nil {
		return out, err
	}
	if !s.LoginFailuresBefore.IsZero() {
		out.LoginFailures, err = db.sweep(ctx, s, sweepLoginFailures, micros(s.LoginFailuresBefore))
	}
	return out, err
}

func (s Sweep) withDefaults(clock func() time.Time) Sweep {
	if s.Now.IsZero() {
		s.Now = clock()
	}
	if s.Batch <= 0 {
		s.Batch = DefaultSweepBatch
	}
	if s.Pause == 0 {
		s.Pause = DefaultSweepPause
	}
	return s
}

// sweep deletes batches from t until one comes back short of a full batch, which means
// that no row was left when it ran.
func (db *DB) sweep(ctx context.Context, s Sweep, t sweepTable, cutoff int64) (int64, error) {
	var total int64
	for {
		n, err := db.deleteBatch(ctx, t, cutoff, s.Batch)
		if err != nil {
			return total, err
		}
		total += n
		if s.OnBatch != nil {
			s.OnBatch(t.name, n)
		}
		if n < int64(s.Batch) {
			return total, nil
		}
		if err := pause(ctx, s.Pause); err != nil {
			return total, db.fail("sweep "+t.name, err)
		}
	}
}

// deleteBatch runs one batch of t in its own transaction.
func (db *DB) deleteBatch(ctx context.Context, t sweepTable, cutoff int64, limit int) (int64, error) {
	var n int64
	err := db.update(ctx, "sweep "+t.name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, t.query, cutoff, limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// pause waits for d (nothing when d is not positive) or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// FlushExpired deletes the refresh tokens and revocations that expired at or before now,
// in batches (Sweep), and returns how many refresh tokens it deleted (simplejwt's
// flushexpiredtokens).
func (db *DB) FlushExpired(ctx context.Context, now time.Time) (int64, error) {
	swept, err := db.Sweep(ctx, Sweep{Now: now})
	return swept.RefreshTokens, err
}

// FlushLoginFailures deletes, in batches, the counts whose last failure and block both
// ended at or before before, and returns how many it deleted. Call it with now minus the
// caller's forgetAfter: such counts would start again at 1 anyway, so only stale rows go.
func (db *DB) FlushLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	return db.sweep(ctx, Sweep{}.withDefaults(db.clock), sweepLoginFailures, micros(before))
}
