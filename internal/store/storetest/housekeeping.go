package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// mustTokenAt records a refresh token of userID issued an hour before exp, with the store's
// clock at that instant, starting a family of its own.
func mustTokenAt(t *testing.T, db *store.DB, userID int64, id string, exp time.Time) {
	t.Helper()
	rt := ciphemic.RefreshToken{JTI: id, UserID: userID, IssuedAt: exp.Add(-time.Hour), ExpiresAt: exp}
	if err := db.CreateRefreshToken(context.Background(), rt); err != nil {
		t.Fatalf("CreateRefreshToken(%s) = %v", id, err)
	}
}

// seedSweep fills db with rows a sweep at t0 must delete and rows it must keep, and
// returns the refresh tokens of each kind.
func seedSweep(t *testing.T, db *store.DB) (gone, kept []string) {
	ctx := context.Background()
	alice, bob, carol := mustUser(t, db, "alice"), mustUser(t, db, "bob"), mustUser(t, db, "carol")
	setNow(db, t0.Add(-3*time.Hour))
	// A family whose first token expired goes on with its live successor.
	mustTokenAt(t, db, alice.ID, "first", t0.Add(-time.Hour))
	mustRotate(t, db, "first", "successor", t0.Add(-90*time.Minute))
	mustTokenAt(t, db, bob.ID, "expires-at-t0", t0)
	mustTokenAt(t, db, bob.ID, "live", t0.Add(time.Microsecond))
	// A spent token that has not expired: reuse detection still needs its record.
	mustTokenAt(t, db, alice.ID, "spent", t0.Add(time.Hour))
	mustRotate(t, db, "spent", "spent-next", t0.Add(-time.Minute))

	for _, r := range []struct {
		jti string
		exp time.Time
	}{{"acc-gone", t0.Add(-time.Second)}, {"acc-kept", t0.Add(time.Minute)}} {
		wantIs(t, "RevokeAccessToken()", db.RevokeAccessToken(ctx, r.jti, bob.ID, r.exp), nil)
	}
	wantIs(t, "RevokeFamily(gone)", db.RevokeFamily(ctx, "fam-gone", bob.ID, t0.Add(-time.Hour), t0), nil)
	wantIs(t, "RevokeFamily(kept)", db.RevokeFamily(ctx, "fam-kept", bob.ID, t0.Add(-time.Hour), t0.Add(time.Minute)), nil)
	wantIs(t, "RevokeUser()", db.RevokeUser(ctx, carol.ID, t0.Add(-3*time.Hour), t0.Add(-time.Hour)), nil)

	mustFail(t, db, "stale", t0.Add(-2*forget), nil)
	mustFail(t, db, "blocked", t0.Add(-2*forget), func(int) time.Duration { return 3 * forget })
	mustFail(t, db, "recent", t0.Add(-time.Minute), nil)
	return []string{"first", "expires-at-t0"}, []string{"successor", "live", "spent", "spent-next"}
}

// testSweep: a sweep at the store's clock deletes the refresh tokens and revocations that
// expired at or before it and the stale failed-login counts, and keeps every row still
// needed: live tokens, a spent token reuse detection must still recognise, the live
// successor of an expired token, revocations that still matter, blocks still running.
func testSweep(t *testing.T, db *store.DB) {
	ctx := context.Background()
	gone, kept := seedSweep(t, db)
	setNow(db, t0)
	s := store.Sweep{LoginFailuresBefore: t0.Add(-forget), Pause: -1}
	swept, err := db.Sweep(ctx, s)
	if want := (store.Swept{RefreshTokens: 2, Revocations: 3, LoginFailures: 1}); err != nil || swept != want {
		t.Fatalf("Sweep() = %+v, %v, want %+v, nil", swept, err, want)
	}
	for _, id := range gone {
		_, err := db.RefreshToken(ctx, id)
		wantCode(t, "RefreshToken("+id+") after Sweep", err, ciphemic.CodeNotFound, "")
	}
	for _, id := range kept {
		mustRefreshToken(t, db, id)
	}
	checkSweptRevocations(t, db)
	checkSweptLoginFailures(t, db)
	checkReuseAfterSweep(t, db)
	if swept, err := db.Sweep(ctx, s); err != nil || swept != (store.Swept{}) {
		t.Errorf("Sweep() again = %+v, %v, want nothing deleted", swept, err)
	}
}

// checkSweptRevocations: looking from before every expiry shows which revocations are left.
func checkSweptRevocations(t *testing.T, db *store.DB) {
	t.Helper()
	setNow(db, t0.Add(-4*time.Hour))
	defer setNow(db, t0)
	var got []string
	for _, r := range mustRevocations(t, db, time.Time{}) {
		got = append(got, r.JTI+r.FamilyID)
	}
	if want := []string{"acc-kept", "fam-kept"}; !reflect.DeepEqual(got, want) {
		t.Errorf("revocations left after Sweep = %v, want %v", got, want)
	}
}

// checkSweptLoginFailures: a deleted count starts again at 1, kept ones go on, and a block
// still running still blocks.
func checkSweptLoginFailures(t *testing.T, db *store.DB) {
	t.Helper()
	for name, want := range map[string]int{"stale": 1, "recent": 2} {
		var seen int
		mustFail(t, db, name, t0, func(n int) time.Duration { seen = n; return 0 })
		if seen != want {
			t.Errorf("after Sweep, next failure of %s is #%d, want #%d", name, seen, want)
		}
	}
	if mustBlockedUntil(t, db, "blocked", t0).IsZero() {
		t.Errorf("after Sweep, a block still running was deleted")
	}
}

// checkReuseAfterSweep: the spent token is still recognised as spent, with its successor,
// and the family whose first token left still rotates.
func checkReuseAfterSweep(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	next := ciphemic.RefreshToken{JTI: "reused-next", ExpiresAt: t0.Add(time.Hour)}
	_, err := db.RotateRefreshToken(ctx, "spent", next, true, t0)
	var spent *store.SpentError
	if !errors.As(err, &spent) || spent.Token.ReplacedBy != "spent-next" {
		t.Errorf("RotateRefreshToken(spent) after Sweep = %v, want a *SpentError replaced by spent-next", err)
	}
	mustRotate(t, db, "successor", "successor-next", t0)
}

// testSweepBatches: no transaction of a sweep deletes more than a batch, so without a
// time budget (testSweepAdapts has one) 250 expired tokens go in three batches of 100, and the sweep of a table ends with its first short
// batch. (The default batch is 1,000; 2,500 rows would take seconds to insert one by one.)
func testSweepBatches(t *testing.T, db *store.DB) {
	const expired = 250
	ctx := context.Background()
	var users []int64
	for i := range 10 {
		users = append(users, mustUser(t, db, jti("u", i)).ID)
	}
	for i := range expired {
		mustTokenAt(t, db, users[i%len(users)], jti("x", i), t0.Add(-time.Duration(i+1)*time.Second))
	}
	mustTokenAt(t, db, users[0], "live", t0.Add(time.Second))
	type batch struct {
		table   string
		deleted int64
	}
	var got []batch
	swept, err := db.Sweep(ctx, store.Sweep{Batch: 100, BatchTime: -1, OnBatch: func(table string, n int64) {
		got = append(got, batch{table, n})
	}})
	if err != nil || swept.RefreshTokens != expired {
		t.Fatalf("Sweep() = %+v, %v, want %d refresh tokens deleted", swept, err, expired)
	}
	want := []batch{{"refresh_tokens", 100}, {"refresh_tokens", 100}, {"refresh_tokens", 50}, {"revocations", 0}, {"sessions", 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Sweep() batches = %v, want %v", got, want)
	}
	mustRefreshToken(t, db, "live")
}

// testSweepCancel: a sweep whose context ends stops between batches and reports what it
// deleted; the rest is left for the next sweep.
func testSweepCancel(t *testing.T, db *store.DB) {
	u := mustUser(t, db, "alice")
	for i := range 25 {
		mustTokenAt(t, db, u.ID, jti("x", i), t0.Add(-time.Minute))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	swept, err := db.Sweep(ctx, store.Sweep{Batch: 10, BatchTime: -1, Pause: time.Hour, OnBatch: func(string, int64) { cancel() }})
	if !errors.Is(err, context.Canceled) || swept.RefreshTokens != 10 {
		t.Errorf("Sweep() cancelled after a batch = %+v, %v, want 10 refresh tokens deleted and %v", swept, err, context.Canceled)
	}
	swept, err = db.Sweep(context.Background(), store.Sweep{Batch: 10, BatchTime: -1, Pause: -1})
	if err != nil || swept.RefreshTokens != 15 {
		t.Errorf("Sweep() after the cancelled one = %+v, %v, want the 15 left deleted", swept, err)
	}
}

// testSweepAdapts: a batch is sized by the time the batch before it held the writer. The
// store's clock, which a sweep times its batches with, moves a second at each reading
// during the first batch, and a microsecond afterwards: the first batch is 3 rows (nothing
// measured yet), the second one row (a second is over any budget), and once batches are
// quick they double up to the limit.
func testSweepAdapts(t *testing.T, db *store.DB) {
	u := mustUser(t, db, "alice")
	for i := range 250 {
		mustTokenAt(t, db, u.ID, jti("x", i), t0.Add(-time.Duration(i+1)*time.Second))
	}
	var step atomic.Int64
	step.Store(int64(time.Second))
	var now atomic.Int64
	db.SetNow(func() time.Time { return t0.Add(time.Duration(now.Add(step.Load()))) })
	var got []int64
	s := store.Sweep{Now: t0, Batch: 100, BatchTime: 5 * time.Millisecond, Pause: -1, OnBatch: func(table string, n int64) {
		if table == "refresh_tokens" {
			got = append(got, n)
			step.Store(int64(time.Microsecond))
		}
	}}
	if swept, err := db.Sweep(context.Background(), s); err != nil || swept.RefreshTokens != 250 {
		t.Fatalf("Sweep() = %+v, %v, want 250 refresh tokens deleted", swept, err)
	}
	if want := []int64{3, 1, 2, 4, 8, 16, 32, 64, 100, 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("Sweep() batches = %v, want %v", got, want)
	}
}
