package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// mustRotate rotates old into a new token named next at at, with blacklist.
func mustRotate(t *testing.T, db *store.DB, old, next string, at time.Time) {
	t.Helper()
	rt := ciphemic.RefreshToken{JTI: next, IssuedAt: at, ExpiresAt: t0.Add(24 * time.Hour)}
	if _, err := db.RotateRefreshToken(context.Background(), old, rt, true, at); err != nil {
		t.Fatalf("RotateRefreshToken(%s → %s) = %v", old, next, err)
	}
}

// wantSpent fails t unless err is a *store.SpentError that matches ErrTokenBlacklisted and
// reports want.
func wantSpent(t *testing.T, call string, err error, want store.SpentError) {
	t.Helper()
	var spent *store.SpentError
	if !errors.As(err, &spent) || !errors.Is(err, ciphemic.ErrTokenBlacklisted) {
		t.Errorf("%s = %v, want a *store.SpentError matching %v", call, err, ciphemic.ErrTokenBlacklisted)
		return
	}
	if got := ciphemic.ErrorMessage(err); got != "Token is blacklisted" {
		t.Errorf("%s message = %q, want %q", call, got, "Token is blacklisted")
	}
	if !reflect.DeepEqual(*spent, want) {
		t.Errorf("%s = %+v, want %+v", call, *spent, want)
	}
}

// testSpentError: every way of presenting a spent token tells the family, the successor
// and the instant of the spend, and whether a user-level revocation ended it.
func testSpentError(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	rotated := mustToken(t, db, alice.ID, jti("a", 1))
	mustRotate(t, db, rotated.JTI, jti("a", 2), t0)
	rotated = mustRefreshToken(t, db, rotated.JTI)
	loggedOut := mustToken(t, db, alice.ID, jti("a", 3))
	wantIs(t, "BlacklistRefreshToken()", db.BlacklistRefreshToken(ctx, loggedOut.JTI, t0), nil)
	loggedOut = mustRefreshToken(t, db, loggedOut.JTI)
	revoked := mustToken(t, db, bob.ID, jti("b", 1))
	wantIs(t, "RevokeUser()", db.RevokeUser(ctx, bob.ID, t0, t0.Add(time.Hour)), nil)
	revoked = mustRefreshToken(t, db, revoked.JTI)

	tests := []struct {
		name string
		want store.SpentError
	}{
		{"rotated", store.SpentError{Token: rotated}},
		{"logged out", store.SpentError{Token: loggedOut}},
		{"revoked with its user", store.SpentError{Token: revoked, UserRevoked: true}},
	}
	for i, tc := range tests {
		old := tc.want.Token.JTI
		next := ciphemic.RefreshToken{JTI: jti("next", i), ExpiresAt: t0.Add(time.Hour)}
		_, err := db.RotateRefreshToken(ctx, old, next, true, t0)
		wantSpent(t, "RotateRefreshToken("+tc.name+")", err, tc.want)
		_, err = db.UseRefreshToken(ctx, old, t0)
		wantSpent(t, "UseRefreshToken("+tc.name+")", err, tc.want)
		wantSpent(t, "BlacklistRefreshToken("+tc.name+")", db.BlacklistRefreshToken(ctx, old, t0), tc.want)
		if _, err := db.RefreshToken(ctx, next.JTI); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
			t.Errorf("RotateRefreshToken(%s) failed but recorded its successor (RefreshToken() = %v)", tc.name, err)
		}
	}
	if got := mustRefreshToken(t, db, rotated.JTI); !reflect.DeepEqual(got, rotated) {
		t.Errorf("rotated token after replays = %+v, want it unchanged %+v", got, rotated)
	}
}

// testRotateFamilyMismatch: a successor signed for another session is refused, and
// nothing is spent.
func testRotateFamilyMismatch(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	old := mustToken(t, db, u.ID, jti("a", 1))
	other := ciphemic.RefreshToken{JTI: jti("a", 2), FamilyID: jti("z", 1), ExpiresAt: t0.Add(time.Hour)}
	_, err := db.RotateRefreshToken(ctx, old.JTI, other, true, t0)
	wantIs(t, "RotateRefreshToken(successor of another family)", err, ciphemic.ErrTokenUnknown)
	if got := mustRefreshToken(t, db, old.JTI); !got.BlacklistedAt.IsZero() || got.ReplacedBy != "" {
		t.Errorf("RotateRefreshToken(successor of another family) spent the old token: %+v", got)
	}
	same := ciphemic.RefreshToken{JTI: jti("a", 3), FamilyID: old.JTI, ExpiresAt: t0.Add(time.Hour)}
	_, err = db.RotateRefreshToken(ctx, old.JTI, same, true, t0)
	wantIs(t, "RotateRefreshToken(successor of the same family)", err, nil)
}

func testLiveRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, tc := range tokenCases() {
		id := tc.setup(t, db)
		rt, u, err := db.LiveRefreshToken(ctx, id, t0)
		wantIs(t, "LiveRefreshToken("+tc.name+")", err, tc.want)
		if tc.want != nil {
			continue
		}
		if want := mustRefreshToken(t, db, id); !reflect.DeepEqual(rt, want) || u.ID != want.UserID {
			t.Errorf("LiveRefreshToken(%s) = %+v, user %d, want %+v, user %d", tc.name, rt, u.ID, want, want.UserID)
		}
	}
}

// testRevokeFamily: every live token of the family is blacklisted, no other token is, and
// one log entry per family tells the views, however often the family is revoked.
func testRevokeFamily(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	first := mustToken(t, db, alice.ID, jti("a", 1))
	rotatedAt := t0.Add(-time.Minute)
	mustRotate(t, db, first.JTI, jti("a", 2), rotatedAt)
	otherSession := mustToken(t, db, alice.ID, jti("a", 3))
	bobs := mustToken(t, db, bob.ID, jti("b", 1))

	until := t0.Add(5 * time.Minute)
	wantIs(t, "RevokeFamily()", db.RevokeFamily(ctx, first.JTI, alice.ID, t0, until), nil)
	wantBlacklistedAt := map[string]time.Time{
		first.JTI: stored(rotatedAt), jti("a", 2): stored(t0), otherSession.JTI: {}, bobs.JTI: {},
	}
	for id, want := range wantBlacklistedAt {
		if got := mustRefreshToken(t, db, id); !got.BlacklistedAt.Equal(want) {
			t.Errorf("after RevokeFamily, token %s BlacklistedAt = %v, want %v", id, got.BlacklistedAt, want)
		}
	}
	want := []ciphemic.Revocation{{FamilyID: first.JTI, UserID: alice.ID, ExpiresAt: stored(until), CreatedAt: stored(t0)}}
	if got := mustRevocations(t, db, time.Time{}); !reflect.DeepEqual(got, want) {
		t.Errorf("RevocationsSince() = %+v, want %+v", got, want)
	}

	// Again, later: the entry is re-announced, its expiry moves forward but never back.
	for _, again := range []struct{ until, want time.Time }{
		{until.Add(-time.Minute), until},
		{until.Add(time.Minute), until.Add(time.Minute)},
	} {
		setNow(db, t0.Add(time.Second))
		wantIs(t, "RevokeFamily(again)", db.RevokeFamily(ctx, first.JTI, alice.ID, t0.Add(time.Second), again.until), nil)
		want := []ciphemic.Revocation{{FamilyID: first.JTI, UserID: alice.ID, ExpiresAt: stored(again.want), CreatedAt: stored(t0.Add(time.Second))}}
		if got := mustRevocations(t, db, t0.Add(time.Second)); !reflect.DeepEqual(got, want) {
			t.Errorf("RevokeFamily(until %v) again: RevocationsSince() = %+v, want %+v", again.until, got, want)
		}
	}
	err := db.RevokeFamily(ctx, "", alice.ID, t0, until)
	wantCode(t, `RevokeFamily("")`, err, ciphemic.CodeInvalid, "")
	if n, err := db.FlushExpired(ctx, until.Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("FlushExpired() = %d, %v, want 0, nil", n, err)
	}
	setNow(db, t0)
	if got := mustRevocations(t, db, time.Time{}); len(got) != 0 {
		t.Errorf("RevocationsSince() after FlushExpired = %+v, want none", got)
	}
}

// testReuseRace: of concurrent rotations of one token one wins, and every loser learns
// the winner's successor from its SpentError and finds it live, as a reuse grace window
// hands it out; no loser's successor is ever recorded.
func testReuseRace(t *testing.T, db *store.DB) {
	const racers = 16
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	old := mustToken(t, db, u.ID, jti("r", 0))
	successors := make([]string, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			next := ciphemic.RefreshToken{JTI: jti("r", i+1), ExpiresAt: t0.Add(time.Hour)}
			_, err := db.RotateRefreshToken(ctx, old.JTI, next, true, t0)
			var spent *store.SpentError
			switch {
			case err == nil:
				successors[i] = next.JTI
				return
			case !errors.As(err, &spent):
				t.Errorf("RotateRefreshToken() = %v, want nil or a *store.SpentError", err)
				return
			}
			rt, _, err := db.LiveRefreshToken(ctx, spent.Token.ReplacedBy, t0)
			if err != nil {
				t.Errorf("LiveRefreshToken(successor %q) = %v, want it live", spent.Token.ReplacedBy, err)
			}
			successors[i] = rt.JTI
		})
	}
	close(start)
	wg.Wait()
	winner := mustRefreshToken(t, db, old.JTI).ReplacedBy
	for i, got := range successors {
		if got != winner {
			t.Errorf("racer %d got successor %q, want the winner's %q", i, got, winner)
		}
		if id := jti("r", i+1); id != winner {
			if _, err := db.RefreshToken(ctx, id); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
				t.Errorf("loser's successor %s recorded (RefreshToken() = %v)", id, err)
			}
		}
	}
}
