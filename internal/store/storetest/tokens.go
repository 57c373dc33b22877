package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

func testCreateRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	in := ciphemic.RefreshToken{
		JTI:       jti("a", 1),
		UserID:    u.ID,
		IssuedAt:  t0.Add(-time.Minute + 1),
		ExpiresAt: t0.Add(time.Hour + 1),
	}
	wantIs(t, "CreateRefreshToken()", db.CreateRefreshToken(ctx, in), nil)
	got := mustRefreshToken(t, db, in.JTI)
	want := in
	want.FamilyID = in.JTI // a new family is named by its first token
	want.IssuedAt, want.ExpiresAt = stored(in.IssuedAt), stored(in.ExpiresAt)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RefreshToken(%q) = %+v, want %+v", in.JTI, got, want)
	}

	// A zero IssuedAt is the store's now; a given family is kept.
	second := ciphemic.RefreshToken{JTI: jti("a", 2), UserID: u.ID, FamilyID: in.JTI, ExpiresAt: t0.Add(time.Hour)}
	wantIs(t, "CreateRefreshToken(second)", db.CreateRefreshToken(ctx, second), nil)
	got = mustRefreshToken(t, db, second.JTI)
	if got.FamilyID != in.JTI || !got.IssuedAt.Equal(stored(t0)) || !got.BlacklistedAt.IsZero() || got.ReplacedBy != "" {
		t.Errorf("RefreshToken(second) = %+v, want family %q, issued %v, not blacklisted or replaced",
			got, in.JTI, stored(t0))
	}
}

func testCreateRefreshTokenErrors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	mustToken(t, db, u.ID, jti("a", 1))
	exp := t0.Add(time.Hour)
	tests := []struct {
		name string
		rt   ciphemic.RefreshToken
		code ciphemic.Code
	}{
		{"duplicate jti", ciphemic.RefreshToken{JTI: jti("a", 1), UserID: u.ID, ExpiresAt: exp}, ciphemic.CodeConflict},
		{"unknown user", ciphemic.RefreshToken{JTI: jti("a", 2), UserID: u.ID + 1000, ExpiresAt: exp}, ciphemic.CodeNotFound},
		{"no jti", ciphemic.RefreshToken{UserID: u.ID, ExpiresAt: exp}, ciphemic.CodeInvalid},
		{"no expiry", ciphemic.RefreshToken{JTI: jti("a", 3), UserID: u.ID}, ciphemic.CodeInvalid},
	}
	for _, tc := range tests {
		err := db.CreateRefreshToken(ctx, tc.rt)
		wantCode(t, "CreateRefreshToken("+tc.name+")", err, tc.code, "")
	}
	_, err := db.RefreshToken(ctx, jti("zz", 9))
	wantCode(t, "RefreshToken(unknown)", err, ciphemic.CodeNotFound, "Not found.")
}

// tokenCase is a refresh token in some state and the error using it must give.
type tokenCase struct {
	name  string
	setup func(t *testing.T, db *store.DB) string // returns the jti to use
	want  error
}

// tokenCases covers every reason a refresh token may not be used at t0.
func tokenCases() []tokenCase {
	create := func(t *testing.T, db *store.DB, username string, edit func(*ciphemic.RefreshToken), userEdits ...func(*ciphemic.User)) string {
		u := mustUser(t, db, username, userEdits...)
		rt := ciphemic.RefreshToken{JTI: jti(username, 1), UserID: u.ID, IssuedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)}
		if edit != nil {
			edit(&rt)
		}
		if err := db.CreateRefreshToken(context.Background(), rt); err != nil {
			t.Fatalf("CreateRefreshToken() = %v", err)
		}
		return rt.JTI
	}
	inactive := func(u *ciphemic.User) { u.IsActive = false }
	revokedAt := func(at time.Time) func(*ciphemic.User) {
		return func(u *ciphemic.User) { u.TokensValidAfter = at }
	}
	return []tokenCase{
		{"live", func(t *testing.T, db *store.DB) string { return create(t, db, "live", nil) }, nil},
		{"unknown", func(t *testing.T, db *store.DB) string { return jti("nobody", 1) }, ciphemic.ErrTokenUnknown},
		{"expires now", func(t *testing.T, db *store.DB) string {
			return create(t, db, "expnow", func(rt *ciphemic.RefreshToken) { rt.ExpiresAt = t0 })
		}, ciphemic.ErrTokenUnknown},
		{"expired", func(t *testing.T, db *store.DB) string {
			return create(t, db, "expired", func(rt *ciphemic.RefreshToken) { rt.ExpiresAt = t0.Add(-time.Microsecond) })
		}, ciphemic.ErrTokenUnknown},
		{"expires after now", func(t *testing.T, db *store.DB) string {
			return create(t, db, "expsoon", func(rt *ciphemic.RefreshToken) { rt.ExpiresAt = t0.Add(time.Microsecond) })
		}, nil},
		{"blacklisted", func(t *testing.T, db *store.DB) string {
			return create(t, db, "black", func(rt *ciphemic.RefreshToken) { rt.BlacklistedAt = t0.Add(-time.Minute) })
		}, ciphemic.ErrTokenBlacklisted},
		{"expired and blacklisted", func(t *testing.T, db *store.DB) string {
			return create(t, db, "both", func(rt *ciphemic.RefreshToken) {
				rt.BlacklistedAt, rt.ExpiresAt = t0.Add(-time.Minute), t0.Add(-time.Second)
			})
		}, ciphemic.ErrTokenUnknown},
		{"inactive user", func(t *testing.T, db *store.DB) string { return create(t, db, "inactive", nil, inactive) }, ciphemic.ErrUserInactive},
		{"issued before revocation", func(t *testing.T, db *store.DB) string {
			return create(t, db, "before", nil, revokedAt(t0.Add(-time.Minute)))
		}, ciphemic.ErrTokenBlacklisted},
		{"issued at revocation", func(t *testing.T, db *store.DB) string {
			return create(t, db, "at", nil, revokedAt(t0.Add(-time.Hour)))
		}, ciphemic.ErrTokenBlacklisted},
		{"issued after revocation", func(t *testing.T, db *store.DB) string {
			return create(t, db, "after", nil, revokedAt(t0.Add(-time.Hour-time.Microsecond)))
		}, nil},
	}
}

func testUseRefreshToken(t *testing.T, db *store.DB) {
	for _, tc := range tokenCases() {
		id := tc.setup(t, db)
		u, err := db.UseRefreshToken(context.Background(), id, t0)
		wantIs(t, "UseRefreshToken("+tc.name+")", err, tc.want)
		if tc.want == nil && (u.ID == 0 || u.Username == "") {
			t.Errorf("UseRefreshToken(%s) user = %+v, want the token's user", tc.name, u)
		}
	}
}

func testRotateErrors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for i, tc := range tokenCases() {
		old := tc.setup(t, db)
		next := ciphemic.RefreshToken{JTI: jti("next", i), ExpiresAt: t0.Add(time.Hour)}
		_, err := db.RotateRefreshToken(ctx, old, next, true, t0)
		wantIs(t, "RotateRefreshToken("+tc.name+")", err, tc.want)
		_, err = db.RefreshToken(ctx, next.JTI)
		if tc.want != nil && ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
			t.Errorf("RotateRefreshToken(%s) failed but recorded its successor (RefreshToken() = %v)", tc.name, err)
		}
	}
}

// testRotateUserChecksRollBack: a rotation refused for the user's sake must not have
// spent the old token, since the spend and the checks share one transaction.
func testRotateUserChecksRollBack(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for i, tc := range tokenCases() {
		if tc.want != ciphemic.ErrUserInactive && tc.name != "issued before revocation" {
			continue
		}
		old := tc.setup(t, db)
		next := ciphemic.RefreshToken{JTI: jti("next", i), ExpiresAt: t0.Add(time.Hour)}
		_, err := db.RotateRefreshToken(ctx, old, next, true, t0)
		wantIs(t, "RotateRefreshToken("+tc.name+")", err, tc.want)
		if got := mustRefreshToken(t, db, old); !got.BlacklistedAt.IsZero() || got.ReplacedBy != "" {
			t.Errorf("RotateRefreshToken(%s) failed but spent the old token: %+v", tc.name, got)
		}
	}
}

func testRotateRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	first := mustToken(t, db, u.ID, jti("a", 1))
	now := t0.Add(time.Minute)
	next := ciphemic.RefreshToken{JTI: jti("a", 2), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	got, err := db.RotateRefreshToken(ctx, first.JTI, next, true, now)
	if err != nil || got.ID != u.ID {
		t.Fatalf("RotateRefreshToken() = %d, %v, want %d, nil", got.ID, err, u.ID)
	}
	old := mustRefreshToken(t, db, first.JTI)
	if !old.BlacklistedAt.Equal(stored(now)) || old.ReplacedBy != next.JTI {
		t.Errorf("old token after rotation = %+v, want blacklisted at %v, replaced by %q", old, stored(now), next.JTI)
	}
	successor := mustRefreshToken(t, db, next.JTI)
	if successor.FamilyID != first.JTI || successor.UserID != u.ID || !successor.IssuedAt.Equal(stored(now)) {
		t.Errorf("successor = %+v, want family %q, user %d", successor, first.JTI, u.ID)
	}
	_, err = db.UseRefreshToken(ctx, first.JTI, now)
	wantIs(t, "UseRefreshToken(rotated)", err, ciphemic.ErrTokenBlacklisted)
	_, err = db.UseRefreshToken(ctx, next.JTI, now)
	wantIs(t, "UseRefreshToken(successor)", err, nil)

	// The family follows the chain, and a successor claiming another user is refused.
	third := ciphemic.RefreshToken{JTI: jti("a", 3), ExpiresAt: now.Add(time.Hour)}
	_, err = db.RotateRefreshToken(ctx, next.JTI, third, true, now)
	wantIs(t, "RotateRefreshToken(second)", err, nil)
	if got := mustRefreshToken(t, db, third.JTI); got.FamilyID != first.JTI {
		t.Errorf("third token family = %q, want %q", got.FamilyID, first.JTI)
	}
	stolen := ciphemic.RefreshToken{JTI: jti("a", 4), UserID: u.ID + 1, ExpiresAt: now.Add(time.Hour)}
	_, err = db.RotateRefreshToken(ctx, third.JTI, stolen, true, now)
	wantIs(t, "RotateRefreshToken(successor of another user)", err, ciphemic.ErrTokenUnknown)
	dup := ciphemic.RefreshToken{JTI: first.JTI, ExpiresAt: now.Add(time.Hour)}
	_, err = db.RotateRefreshToken(ctx, third.JTI, dup, true, now)
	wantCode(t, "RotateRefreshToken(successor jti taken)", err, ciphemic.CodeConflict, "")
	_, err = db.UseRefreshToken(ctx, third.JTI, now)
	wantIs(t, "UseRefreshToken(token whose rotations failed)", err, nil)
}

func testRotateWithoutBlacklist(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	first := mustToken(t, db, u.ID, jti("a", 1))
	for i := 2; i <= 3; i++ {
		next := ciphemic.RefreshToken{JTI: jti("a", i), ExpiresAt: t0.Add(time.Hour)}
		_, err := db.RotateRefreshToken(ctx, first.JTI, next, false, t0)
		wantIs(t, "RotateRefreshToken(blacklistOld=false)", err, nil)
		old := mustRefreshToken(t, db, first.JTI)
		if !old.BlacklistedAt.IsZero() || old.ReplacedBy != next.JTI {
			t.Errorf("old token = %+v, want not blacklisted, replaced by %q", old, next.JTI)
		}
		if got := mustRefreshToken(t, db, next.JTI); got.FamilyID != first.JTI {
			t.Errorf("successor family = %q, want %q", got.FamilyID, first.JTI)
		}
	}
	_, err := db.UseRefreshToken(ctx, first.JTI, t0)
	wantIs(t, "UseRefreshToken(rotated without blacklist)", err, nil)
}

func testBlacklistRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	rt := mustToken(t, db, u.ID, jti("a", 1))
	wantIs(t, "BlacklistRefreshToken()", db.BlacklistRefreshToken(ctx, rt.JTI, t0), nil)
	if got := mustRefreshToken(t, db, rt.JTI); !got.BlacklistedAt.Equal(stored(t0)) {
		t.Errorf("BlacklistedAt = %v, want %v", got.BlacklistedAt, stored(t0))
	}
	wantIs(t, "BlacklistRefreshToken(again)", db.BlacklistRefreshToken(ctx, rt.JTI, t0), ciphemic.ErrTokenBlacklisted)
	wantIs(t, "BlacklistRefreshToken(unknown)", db.BlacklistRefreshToken(ctx, jti("zz", 1), t0), ciphemic.ErrTokenUnknown)
	other := mustToken(t, db, u.ID, jti("a", 2))
	wantIs(t, "BlacklistRefreshToken(expired)", db.BlacklistRefreshToken(ctx, other.JTI, other.ExpiresAt), ciphemic.ErrTokenUnknown)
}
