package store

import (
	"context"
	"database/sql"
	"math"
	"time"
)

// Housekeeping deletes the rows nothing needs any more: refresh tokens and revocations past
// their expiry, and failed-login counts the throttle has forgotten. It deletes them in
// small batches, each its own short transaction, because a year of traffic leaves millions
// of such rows and one DELETE of them all would hold SQLite's only writer (and on
// PostgreSQL, lock every row) for as long as it runs, stalling every login and refresh.
//
// A batch's cost per row grows with the tables (every row deleted is an entry in five
// B-trees, one of them, the user index, at random places), so a fixed number of rows is
// not a fixed time. So a batch is held to a time budget, the backend's
// (Dialect.SweepBatchTime): it is one statement in its own transaction, and the number
// of rows it deletes follows the time the batches before it held the writer, from the
// first statement through the commit (nextBatchRows). A request that finds the writer
// taken by housekeeping waits about the budget at most, however the cost of a row moves.
// And the pause after a batch is at least as long as the batch, so that housekeeping
// never has the writer more than half of the time.
//
// An expired refresh token's row answers nothing a missing row does not: the store refuses
// a token whose expiry has passed before it looks at the blacklist (tokenState.check), so a
// spent token's record, which reuse detection needs, stays exactly as long as it matters.

// DefaultSweepBatch is the most rows one housekeeping transaction deletes unless told
// otherwise.
const DefaultSweepBatch = 1000

// DefaultSweepBatchTime is the time budget of one housekeeping transaction where neither
// the caller nor the backend (Dialect.SweepBatchTime) says otherwise: a request that finds
// the writer taken by housekeeping waits about this long at most.
const DefaultSweepBatchTime = 5 * time.Millisecond

// DefaultSweepPause is the shortest wait between two batches unless told otherwise. It
// lets the requests queued for the writer, in this process or another, have it before
// the next batch.
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
	// BatchTime is the time budget of one transaction, its commit included, measured
	// with the store's clock; 0: the backend's (Dialect.SweepBatchTime, else
	// DefaultSweepBatchTime); negative: none, every batch is Batch rows.
	BatchTime time.Duration
	// Pause is the shortest wait between two batches, which is also never shorter than
	// the batch before it; 0: the backend's (Dialect.SweepPause, else DefaultSweepPause);
	// negative: no wait at all.
	Pause time.Duration
	// OnBatch, when set, is called after every committed transaction with the table it
	// deleted from and how many rows it deleted (0 for the one that finds none left).
	OnBatch func(table string, deleted int64)
}

// Swept counts the rows one sweep deleted.
type Swept struct {
	RefreshTokens, Revocations, LoginFailures, Sessions int64
}

// Total is the number of rows deleted from every table.
func (s Swept) Total() int64 {
	return s.RefreshTokens + s.Revocations + s.LoginFailures + s.Sessions
}

// sweepTable is the batch delete of one table. Its query deletes the at most $2 rows with
// the earliest expiries between $3 and $1 (both inclusive), read in the order of the index
// on that expiry, and returns their expiries. DELETE … LIMIT is not standard SQL; a
// subquery with LIMIT runs on SQLite and PostgreSQL. $3 is where the previous batch
// stopped: PostgreSQL keeps deleted rows and their index entries until VACUUM, and a batch
// that started from the beginning again would read past all of them, so that a sweep's
// cost grew with the square of its rows. The ORDER BY keeps PostgreSQL's planner on the
// index: when most rows match it would otherwise choose a sequential scan, which has the
// same problem.
type sweepTable struct {
	name, query string
}

var (
	sweepRefreshTokens = sweepTable{"refresh_tokens", `DELETE FROM refresh_tokens WHERE jti IN
		(SELECT jti FROM refresh_tokens WHERE expires_at >= $3 AND expires_at <= $1
			ORDER BY expires_at LIMIT $2)
		RETURNING expires_at`}
	sweepRevocations = sweepTable{"revocations", `DELETE FROM revocations WHERE id IN
		(SELECT id FROM revocations WHERE expires_at >= $3 AND expires_at <= $1
			ORDER BY expires_at LIMIT $2)
		RETURNING expires_at`}
	sweepLoginFailures = sweepTable{"login_failures", `DELETE FROM login_failures WHERE username_sha256 IN
		(SELECT username_sha256 FROM login_failures
			WHERE last_failure_at >= $3 AND last_failure_at <= $1
				AND (blocked_until IS NULL OR blocked_until <= $1)
			ORDER BY last_failure_at LIMIT $2)
		RETURNING last_failure_at`}
)

// Sweep deletes the expired refresh tokens, the expired revocations, the expired
// sessions (sessions.go) and, when
// s.LoginFailuresBefore is set, the stale failed-login counts, until none is left, and
// returns how many rows of each it deleted. It deletes them in batches of at most s.Batch
// rows held to s.BatchTime, each followed by a pause of at least s.Pause and at least its
// own duration, as the comment at the top of this file explains. When ctx ends it stops
// between batches with ctx's error; the batches already committed stay deleted and are
// counted.
func (db *DB) Sweep(ctx context.Context, s Sweep) (Swept, error) {
	s = s.withDefaults(db)
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
	if out.Sessions, err = db.sweep(ctx, s, sweepSessions, micros(s.Now)); err != nil {
		return out, err
	}
	if !s.LoginFailuresBefore.IsZero() {
		out.LoginFailures, err = db.sweep(ctx, s, sweepLoginFailures, micros(s.LoginFailuresBefore))
	}
	return out, err
}

func (s Sweep) withDefaults(db *DB) Sweep {
	if s.Now.IsZero() {
		s.Now = db.clock()
	}
	if s.Batch <= 0 {
		s.Batch = DefaultSweepBatch
	}
	if s.BatchTime == 0 {
		s.BatchTime = db.dialect.SweepBatchTime
	}
	if s.BatchTime == 0 {
		s.BatchTime = DefaultSweepBatchTime
	}
	if s.Pause == 0 {
		s.Pause = db.dialect.SweepPause
	}
	if s.Pause == 0 {
		s.Pause = DefaultSweepPause
	}
	return s
}

// sweep deletes batches from t until one finds no more rows.
func (db *DB) sweep(ctx context.Context, s Sweep, t sweepTable, cutoff int64) (int64, error) {
	var total int64
	rows := firstBatchRows(s.Batch, s.BatchTime)
	from := int64(math.MinInt64)
	for {
		b, err := db.deleteBatch(ctx, t, cutoff, from, rows)
		if err != nil {
			return total, err
		}
		total += b.deleted
		if s.OnBatch != nil {
			s.OnBatch(t.name, b.deleted)
		}
		if b.exhausted {
			return total, nil
		}
		// Rows expiring at b.last itself may be left (ties past the limit): from is inclusive.
		from = b.last
		rows = nextBatchRows(rows, b.took, s.BatchTime, s.Batch)
		if err := pause(ctx, pauseAfter(b.took, s.Pause)); err != nil {
			return total, db.fail("sweep "+t.name, err)
		}
	}
}

// tick reads the store's clock for measuring a duration: unlike clock, it keeps the
// monotonic reading of time.Now, so that a wall-clock step cannot distort it.
func (db *DB) tick() time.Time {
	return (*db.now.Load())()
}

// pauseAfter is the wait after a batch that took took: at least as long as the batch, so
// that housekeeping holds the writer half of the time at most, and at least least;
// nothing when least is negative.
func pauseAfter(took, least time.Duration) time.Duration {
	if least < 0 {
		return 0
	}
	return max(least, took)
}

// batch is what one batch did: how many rows it deleted, the latest expiry among them,
// whether it found no more rows to delete, and how long it held its transaction, from its
// first statement to its commit (the wait for the writer before it does not count).
type batch struct {
	deleted, last int64
	exhausted     bool
	took          time.Duration
}

// firstBatchRows is how many rows a sweep's first batch deletes: before anything is
// measured, a few when the batches have a time budget, else the limit.
func firstBatchRows(limit int, budget time.Duration) int {
	if budget < 0 {
		return limit
	}
	return min(limit, firstStatementRows)
}

// firstStatementRows is how many rows a sweep's first batch deletes when batches have a
// time budget, before it has measured what a row costs.
const firstStatementRows = 3

// nextBatchRows sizes the batch after one of rows rows that held the writer for took, so
// that the next holds it for about budget. What counts is the whole hold, commit
// included: a request that finds the writer taken waits for all of it, and the commit
// (the WAL pages of every B-tree entry deleted) costs about as much as the deletes. It
// shrinks at once when a batch overran, and at most doubles after a quick one, since one
// batch whose pages happened to be cached says little about the next. Never below one
// row, so that a sweep always progresses, nor above limit; without a budget, limit.
func nextBatchRows(rows int, took, budget time.Duration, limit int) int {
	if budget < 0 {
		return limit
	}
	grown := limit
	if rows < limit/2 {
		grown = 2 * rows
	}
	if took <= 0 {
		return max(1, grown)
	}
	fit := float64(rows) * float64(budget) / float64(took)
	if fit >= float64(grown) {
		return max(1, grown)
	}
	return max(1, int(fit))
}

// deleteBatch runs one batch of t in its own transaction: one statement deleting at most
// rows rows expiring in [from, cutoff].
func (db *DB) deleteBatch(ctx context.Context, t sweepTable, cutoff, from int64, rows int) (batch, error) {
	var b batch
	var start time.Time
	err := db.update(ctx, "sweep "+t.name, func(tx *sql.Tx) error {
		start = db.tick()
		n, last, err := deleteRows(ctx, tx, t, cutoff, rows, from)
		b = batch{deleted: n, last: last, exhausted: n < int64(rows)}
		return err
	})
	b.took = db.tick().Sub(start)
	return b, err
}

// deleteRows runs t's query once: at most limit rows expiring in [from, cutoff]. It
// returns how many it deleted and the latest expiry among them.
func deleteRows(ctx context.Context, tx *sql.Tx, t sweepTable, cutoff int64, limit int, from int64) (int64, int64, error) {
	rows, err := tx.QueryContext(ctx, t.query, cutoff, limit, from)
	if err != nil {
		return 0, from, err
	}
	defer rows.Close()
	var n int64
	last := from
	for rows.Next() {
		var expiry int64
		if err := rows.Scan(&expiry); err != nil {
			return n, last, err
		}
		n, last = n+1, max(last, expiry)
	}
	return n, last, rows.Err()
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
	return db.sweep(ctx, Sweep{}.withDefaults(db), sweepLoginFailures, micros(before))
}
