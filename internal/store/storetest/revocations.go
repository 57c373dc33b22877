package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

func mustRevocations(t *testing.T, db *store.DB, since time.Time) []ciphemic.Revocation {
	t.Helper()
	rs, err := db.RevocationsSince(context.Background(), since)
	if err != nil {
		t.Fatalf("RevocationsSince(%v) = %v", since, err)
	}
	return rs
}

func testRevokeAccessToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	exp := t0.Add(5*time.Minute + 1)
	for range 2 { // the second time is a duplicate, which is not an error
		wantIs(t, "RevokeAccessToken()", db.RevokeAccessToken(ctx, jti("acc", 1), 7, exp), nil)
	}
	want := []ciphemic.Revocation{{JTI: jti("acc", 1), UserID: 7, ExpiresAt: stored(exp), CreatedAt: stored(t0)}}
	if got := mustRevocations(t, db, t0); !reflect.DeepEqual(got, want) {
		t.Errorf("RevocationsSince(t0) = %+v, want %+v", got, want)
	}
	err := db.RevokeAccessToken(ctx, "", 7, exp)
	wantCode(t, `RevokeAccessToken("")`, err, ciphemic.CodeInvalid, "")
}

func testRevokeUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	other := mustUser(t, db, "bob")
	live := mustToken(t, db, u.ID, jti("a", 1))
	mustToken(t, db, u.ID, jti("a", 2))
	earlier := t0.Add(-time.Hour)
	wantIs(t, "BlacklistRefreshToken()", db.BlacklistRefreshToken(ctx, jti("a", 2), earlier), nil)
	bobs := mustToken(t, db, other.ID, jti("b", 1))

	validAfter, until := t0.Add(-time.Second+1), t0.Add(time.Hour)
	wantIs(t, "RevokeUser()", db.RevokeUser(ctx, u.ID, validAfter, until), nil)

	if got, _ := db.User(ctx, u.ID); !got.TokensValidAfter.Equal(stored(validAfter)) {
		t.Errorf("TokensValidAfter = %v, want %v", got.TokensValidAfter, stored(validAfter))
	}
	if got := mustRefreshToken(t, db, live.JTI); !got.BlacklistedAt.Equal(stored(validAfter)) {
		t.Errorf("live token BlacklistedAt = %v, want %v", got.BlacklistedAt, stored(validAfter))
	}
	if got := mustRefreshToken(t, db, jti("a", 2)); !got.BlacklistedAt.Equal(stored(earlier)) {
		t.Errorf("already blacklisted token BlacklistedAt = %v, want it kept at %v", got.BlacklistedAt, stored(earlier))
	}
	if got := mustRefreshToken(t, db, bobs.JTI); !got.BlacklistedAt.IsZero() {
		t.Errorf("another user's token BlacklistedAt = %v, want zero", got.BlacklistedAt)
	}
	want := []ciphemic.Revocation{{UserID: u.ID, ValidAfter: stored(validAfter), ExpiresAt: stored(until), CreatedAt: stored(t0)}}
	if got := mustRevocations(t, db, t0); !reflect.DeepEqual(got, want) {
		t.Errorf("RevocationsSince(t0) = %+v, want %+v", got, want)
	}
	// A token issued after the revocation, such as a new login's, is unaffected.
	fresh := ciphemic.RefreshToken{JTI: jti("a", 3), UserID: u.ID, IssuedAt: t0, ExpiresAt: until}
	wantIs(t, "CreateRefreshToken(after revocation)", db.CreateRefreshToken(ctx, fresh), nil)
	_, err := db.UseRefreshToken(ctx, fresh.JTI, t0)
	wantIs(t, "UseRefreshToken(issued after revocation)", err, nil)
}

// testRevokeUserOnlyForward: a revocation never un-revokes tokens an earlier, later-dated
// revocation ended.
func testRevokeUserOnlyForward(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	tests := []struct {
		validAfter, want time.Time
	}{
		{t0, t0},
		{t0.Add(-time.Minute), t0},
		{t0.Add(time.Microsecond), t0.Add(time.Microsecond)},
	}
	for _, tc := range tests {
		wantIs(t, "RevokeUser()", db.RevokeUser(ctx, u.ID, tc.validAfter, t0.Add(time.Hour)), nil)
		got, _ := db.User(ctx, u.ID)
		if !got.TokensValidAfter.Equal(stored(tc.want)) {
			t.Errorf("RevokeUser(%v): TokensValidAfter = %v, want %v", tc.validAfter, got.TokensValidAfter, stored(tc.want))
		}
	}
	if got := mustRevocations(t, db, t0); len(got) != len(tests) {
		t.Errorf("RevocationsSince() = %d entries, want %d (each revocation is logged)", len(got), len(tests))
	}
}

func testRevokeUserNotFound(t *testing.T, db *store.DB) {
	err := db.RevokeUser(context.Background(), 4242, t0, t0.Add(time.Hour))
	wantCode(t, "RevokeUser(missing)", err, ciphemic.CodeNotFound, "Not found.")
	if got := mustRevocations(t, db, time.Time{}); len(got) != 0 {
		t.Errorf("RevocationsSince() after failed RevokeUser = %+v, want none", got)
	}
}

// testRevocationsSinceWindow: created_at >= since is inclusive, expires_at > now exclusive.
func testRevocationsSinceWindow(t *testing.T, db *store.DB) {
	ctx := context.Background()
	created := []time.Time{t0.Add(-2 * time.Second), t0.Add(-time.Second), t0}
	for i, at := range created {
		setNow(db, at)
		exp := t0.Add(time.Duration(i+1) * time.Minute)
		wantIs(t, "RevokeAccessToken()", db.RevokeAccessToken(ctx, jti("acc", i), 1, exp), nil)
	}
	tests := []struct {
		now, since time.Time
		want       []string
	}{
		{t0, time.Time{}, []string{jti("acc", 0), jti("acc", 1), jti("acc", 2)}},
		{t0, t0.Add(-time.Second), []string{jti("acc", 1), jti("acc", 2)}},
		{t0, t0.Add(-time.Second + time.Microsecond), []string{jti("acc", 2)}},
		{t0, t0.Add(time.Microsecond), nil},
		{t0.Add(time.Minute), time.Time{}, []string{jti("acc", 1), jti("acc", 2)}},
		{t0.Add(3 * time.Minute), time.Time{}, nil},
	}
	for _, tc := range tests {
		setNow(db, tc.now)
		var got []string
		for _, r := range mustRevocations(t, db, tc.since) {
			got = append(got, r.JTI)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("at %v, RevocationsSince(%v) = %v, want %v", tc.now, tc.since, got, tc.want)
		}
	}
}

func testFlushExpired(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	for i, exp := range []time.Time{t0.Add(-time.Hour), t0, t0.Add(time.Microsecond)} {
		rt := ciphemic.RefreshToken{JTI: jti("a", i), UserID: u.ID, IssuedAt: t0.Add(-2 * time.Hour), ExpiresAt: exp}
		wantIs(t, "CreateRefreshToken()", db.CreateRefreshToken(ctx, rt), nil)
		wantIs(t, "RevokeAccessToken()", db.RevokeAccessToken(ctx, jti("acc", i), u.ID, exp), nil)
	}
	n, err := db.FlushExpired(ctx, t0)
	if err != nil || n != 2 {
		t.Fatalf("FlushExpired(t0) = %d, %v, want 2, nil", n, err)
	}
	for i, want := range []ciphemic.Code{ciphemic.CodeNotFound, ciphemic.CodeNotFound, ""} {
		_, err := db.RefreshToken(ctx, jti("a", i))
		wantCode(t, "RefreshToken() after FlushExpired", err, want, "")
	}
	// Looking from before the flush shows which revocations are gone.
	setNow(db, t0.Add(-2*time.Hour))
	rs := mustRevocations(t, db, time.Time{})
	if len(rs) != 1 || rs[0].JTI != jti("acc", 2) {
		t.Errorf("revocations left after FlushExpired(t0) = %+v, want only %s", rs, jti("acc", 2))
	}
	if n, err := db.FlushExpired(ctx, t0); err != nil || n != 0 {
		t.Errorf("FlushExpired(t0) again = %d, %v, want 0, nil", n, err)
	}
}
