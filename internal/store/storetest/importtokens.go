package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// The cut-over from Django (issue 11): simplejwt's token records, renumbered users, and
// the accept-once of a Django refresh token that no dump holds.

// cutoverAt is when the suite's import-tokens runs; window is the refresh lifetime.
var (
	cutoverAt = t0.Add(-time.Minute)
	window    = 24 * time.Hour
)

// djangoToken is a live refresh token of Django user pk, issued an hour before t0.
func djangoToken(id string, pk int64) store.DjangoToken {
	return store.DjangoToken{JTI: id, DjangoUserID: pk, IssuedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(23 * time.Hour)}
}

func mustImportTokens(t *testing.T, db *store.DB, tokens []store.DjangoToken) store.TokenImportResult {
	t.Helper()
	res, err := db.ImportDjangoTokens(context.Background(), tokens, cutoverAt)
	if err != nil {
		t.Fatalf("ImportDjangoTokens(%d tokens) = %v", len(tokens), err)
	}
	return res
}

func testImportDjangoTokens(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mustImport(t, db, []ciphemic.User{djangoUser(1, "alice"), djangoUser(7, "bob")}, 2, 0)
	if _, ok, err := db.Cutover(ctx); ok || err != nil {
		t.Fatalf("Cutover() before import-tokens = %v, %v, want none", ok, err)
	}
	live, out := djangoToken(jti("dj-live-", 1), 1), djangoToken(jti("dj-out-", 2), 7)
	out.BlacklistedAt = t0.Add(-30 * time.Minute)
	expired := djangoToken(jti("dj-exp-", 3), 0) // an expired token's user does not matter
	expired.ExpiresAt = t0.Add(-time.Second)
	in := []store.DjangoToken{live, out, expired}
	if res := mustImportTokens(t, db, in); res != (store.TokenImportResult{Created: 2, Expired: 1}) {
		t.Errorf("ImportDjangoTokens() = %+v, want 2 created, 1 expired", res)
	}
	if at, ok, err := db.Cutover(ctx); !ok || err != nil || !at.Equal(cutoverAt.Truncate(time.Microsecond)) {
		t.Errorf("Cutover() = %v, %v, %v, want %v", at, ok, err, cutoverAt)
	}
	got := mustRefreshToken(t, db, live.JTI)
	if got.UserID != 1 || got.FamilyID != live.JTI || !got.BlacklistedAt.IsZero() || !got.ExpiresAt.Equal(live.ExpiresAt.Truncate(time.Microsecond)) {
		t.Errorf("record of the live token = %+v", got)
	}
	if _, err := db.UseRefreshToken(ctx, live.JTI, t0); err != nil {
		t.Errorf("UseRefreshToken(imported live token) = %v", err)
	}
	_, err := db.UseRefreshToken(ctx, out.JTI, t0)
	wantIs(t, "UseRefreshToken(token Django blacklisted)", err, ciphemic.ErrTokenBlacklisted)
	if _, err := db.RefreshToken(ctx, expired.JTI); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("RefreshToken(expired Django token) = %v, want not found", err)
	}

	// A rerun adds nothing, and records a blacklisting Django made since.
	live.BlacklistedAt = t0.Add(-time.Minute)
	if res := mustImportTokens(t, db, []store.DjangoToken{live, out, expired}); res != (store.TokenImportResult{Updated: 2, Expired: 1}) {
		t.Errorf("ImportDjangoTokens() again = %+v, want 2 updated, 1 expired", res)
	}
	_, err = db.UseRefreshToken(ctx, live.JTI, t0)
	wantIs(t, "UseRefreshToken(token blacklisted by the second dump)", err, ciphemic.ErrTokenBlacklisted)
}

// testImportDjangoTokensAllOrNothing: a token of a user no import brought is refused by
// name, and nothing of the dump is written, not even the cut-over.
func testImportDjangoTokensAllOrNothing(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mustImport(t, db, []ciphemic.User{djangoUser(1, "alice")}, 1, 0)
	good, orphan := djangoToken(jti("dj-good-", 1), 1), djangoToken(jti("dj-orphan-", 2), 42)
	_, err := db.ImportDjangoTokens(ctx, []store.DjangoToken{good, orphan}, cutoverAt)
	wantCode(t, "ImportDjangoTokens(user 42 not imported)", err, ciphemic.CodeConflict,
		"token "+orphan.JTI+": its user, Django pk 42, was not imported (run import-users with the same dump of auth.user first)")
	if _, err := db.RefreshToken(ctx, good.JTI); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("RefreshToken(token of a refused import) = %v, want not found", err)
	}
	if _, ok, _ := db.Cutover(ctx); ok {
		t.Error("a refused import recorded the cut-over")
	}
}

// testImportUsersRenumbered: into a store whose ids the dump's pks collide with, new ids;
// every Django pk resolves to its own user, never to the user holding that number.
func testImportUsersRenumbered(t *testing.T, db *store.DB) {
	ctx := context.Background()
	admin := mustUser(t, db, "admin") // id 1, as the first serve creates it
	if id, err := db.DjangoUserID(ctx, 5); err != nil || id != 5 {
		t.Errorf("DjangoUserID(5) before any import = %d, %v, want 5 (ids as they are)", id, err)
	}
	_, err := db.ImportUsers(ctx, []ciphemic.User{djangoUser(admin.ID, "alice")}, time.Time{}, importUntil)
	wantCode(t, "ImportUsers(alice on admin's id)", err, ciphemic.CodeConflict, fmt.Sprintf(
		`record alice: id %d is taken by another user, "admin": import into an empty database before the first serve, or import with --renumber to give the imported users new ids`, admin.ID))

	in := []ciphemic.User{djangoUser(admin.ID, "alice"), djangoUser(admin.ID+1, "bob")}
	res, err := db.ImportUsersRenumbered(ctx, in, time.Time{}, importUntil)
	if err != nil || res.Created != 2 {
		t.Fatalf("ImportUsersRenumbered() = %+v, %v, want 2 created", res, err)
	}
	for _, u := range in {
		got, err := db.UserByUsername(ctx, u.Username)
		if err != nil || got.ID == u.ID || got.ID == admin.ID {
			t.Fatalf("UserByUsername(%s) = %+v, %v, want a new id", u.Username, got, err)
		}
		if id, err := db.DjangoUserID(ctx, u.ID); err != nil || id != got.ID {
			t.Errorf("DjangoUserID(%d, %s's pk) = %d, %v, want %d", u.ID, u.Username, id, err, got.ID)
		}
	}
	// A pk no import recorded is no one, whoever holds that id here.
	_, err = db.DjangoUserID(ctx, 999)
	wantIs(t, "DjangoUserID(unrecorded pk)", err, ciphemic.ErrTokenUnknown)

	// A rerun matches the renumbered users instead of adding them again.
	res, err = db.ImportUsersRenumbered(ctx, in, time.Time{}, importUntil)
	if err != nil || res.Created != 0 || res.Updated != 2 {
		t.Errorf("ImportUsersRenumbered() again = %+v, %v, want 2 updated", res, err)
	}
	alice, _ := db.UserByUsername(ctx, "alice")
	// import-tokens follows the same mapping.
	tok := djangoToken(jti("dj-renum-", 1), admin.ID)
	mustImportTokens(t, db, []store.DjangoToken{tok})
	if got := mustRefreshToken(t, db, tok.JTI); got.UserID != alice.ID {
		t.Errorf("imported token of pk %d belongs to user %d, want alice (%d)", admin.ID, got.UserID, alice.ID)
	}
}

// unknownDjango is a refresh token of user userID that the Django server issued at
// issued and that no dump holds.
func unknownDjango(id string, userID int64, issued time.Time) ciphemic.RefreshToken {
	return ciphemic.RefreshToken{JTI: id, UserID: userID, FamilyID: id, IssuedAt: issued, ExpiresAt: issued.Add(window)}
}

func rotateDjango(db *store.DB, old ciphemic.RefreshToken, next string, now time.Time) error {
	_, err := db.RotateDjangoRefreshToken(context.Background(), old, ciphemic.RefreshToken{
		JTI: next, FamilyID: old.FamilyID, ExpiresAt: now.Add(window)}, true, now, window, ciphemic.AuditEvent{}, nil)
	return err
}

// testRotateDjangoRefreshToken: an unknown Django token issued before the cut-over is
// accepted once within the window; one issued after it, or presented after the window,
// or with no cut-over recorded, is unknown.
func testRotateDjangoRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	before := cutoverAt.Add(-time.Hour)
	early := unknownDjango(jti("dj-early-", 1), u.ID, before)
	wantIs(t, "RotateDjangoRefreshToken(no cut-over recorded)", rotateDjango(db, early, jti("next-", 1), t0), ciphemic.ErrTokenUnknown)
	if _, err := db.RefreshToken(ctx, early.JTI); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("a refused Django token was recorded: %v", err)
	}
	mustImportTokens(t, db, nil)

	wantIs(t, "RotateDjangoRefreshToken(unknown, before the cut-over)", rotateDjango(db, early, jti("next-", 2), t0), nil)
	if got := mustRefreshToken(t, db, early.JTI); got.BlacklistedAt.IsZero() || got.ReplacedBy != jti("next-", 2) || got.UserID != u.ID {
		t.Errorf("record of the accepted Django token = %+v, want blacklisted, replaced by next-2", got)
	}
	if got := mustRefreshToken(t, db, jti("next-", 2)); got.FamilyID != early.JTI {
		t.Errorf("successor family = %q, want the Django token's jti", got.FamilyID)
	}

	// A session's record is written in the same transaction, as for ciphemic's tokens.
	touched := unknownDjango(jti("dj-touched-", 7), u.ID, before)
	sess := ciphemic.Session{ID: touched.FamilyID, UserID: u.ID, CreatedAt: before, LastUsedAt: t0,
		ExpiresAt: t0.Add(window), UserAgent: "django client", ClientIP: "192.0.2.9"}
	if _, err := db.RotateDjangoRefreshToken(ctx, touched, ciphemic.RefreshToken{JTI: jti("next-", 7), FamilyID: touched.FamilyID,
		ExpiresAt: t0.Add(window)}, true, t0, window, ciphemic.AuditEvent{}, &sess); err != nil {
		t.Fatalf("RotateDjangoRefreshToken(with a session) = %v", err)
	}
	if got, err := db.Session(ctx, sess.ID); err != nil || !sameSession(got, sess) {
		t.Errorf("Session() after a Django token's rotation = %+v, %v; want %+v", got, err, sess)
	}
	wantIs(t, "RotateDjangoRefreshToken(the same token again)", rotateDjango(db, early, jti("next-", 3), t0), ciphemic.ErrTokenBlacklisted)

	late := unknownDjango(jti("dj-late-", 1), u.ID, cutoverAt.Add(time.Second))
	wantIs(t, "RotateDjangoRefreshToken(issued after the cut-over)", rotateDjango(db, late, jti("next-", 4), t0), ciphemic.ErrTokenUnknown)
	other := unknownDjango(jti("dj-other-", 1), u.ID, before)
	after := cutoverAt.Add(window)
	other.ExpiresAt = after.Add(time.Hour)
	wantIs(t, "RotateDjangoRefreshToken(after the window)", rotateDjango(db, other, jti("next-", 5), after), ciphemic.ErrTokenUnknown)
	if _, err := db.RefreshToken(ctx, other.JTI); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("a Django token presented after the window was recorded: %v", err)
	}
	// Within the window it still would have been accepted.
	wantIs(t, "RotateDjangoRefreshToken(just inside the window)", rotateDjango(db, other, jti("next-", 6), after.Add(-time.Second)), nil)
}

// testBlacklistDjangoRefreshToken: logging out with an unknown Django token records it
// as blacklisted, so that it can never be accepted afterwards.
func testBlacklistDjangoRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	mustImportTokens(t, db, nil)
	tok := unknownDjango(jti("dj-logout-", 1), u.ID, cutoverAt.Add(-time.Hour))
	if err := db.BlacklistDjangoRefreshToken(ctx, tok, t0, window); err != nil {
		t.Fatalf("BlacklistDjangoRefreshToken() = %v", err)
	}
	wantIs(t, "RotateDjangoRefreshToken(logged out)", rotateDjango(db, tok, jti("next-", 1), t0), ciphemic.ErrTokenBlacklisted)
	wantIs(t, "BlacklistDjangoRefreshToken(again)", db.BlacklistDjangoRefreshToken(ctx, tok, t0, window), ciphemic.ErrTokenBlacklisted)
}

// testRotateDjangoRace: 16 concurrent first uses of one unknown Django token give exactly
// one rotation; the others find it spent.
func testRotateDjangoRace(t *testing.T, db *store.DB) {
	const racers = 16
	u := mustUser(t, db, "alice")
	mustImportTokens(t, db, nil)
	for round := range 3 {
		old := unknownDjango(jti(fmt.Sprintf("dj-race%d-", round), 0), u.ID, cutoverAt.Add(-time.Hour))
		errs := atOnceN(racers, func(i int) error {
			return rotateDjango(db, old, jti(fmt.Sprintf("race%d-next-", round), i), t0)
		})
		wantOneWinner(t, fmt.Sprintf("round %d: RotateDjangoRefreshToken()", round), errs)
	}
}

// testUseDjangoRefreshToken: verify of an unknown Django token answers as its refresh
// would, without recording it.
func testUseDjangoRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	tok := unknownDjango(jti("dj-verify-", 1), u.ID, cutoverAt.Add(-time.Hour))
	_, err := db.UseDjangoRefreshToken(ctx, tok, t0, window)
	wantIs(t, "UseDjangoRefreshToken(no cut-over recorded)", err, ciphemic.ErrTokenUnknown)
	mustImportTokens(t, db, nil)
	if got, err := db.UseDjangoRefreshToken(ctx, tok, t0, window); err != nil || got.ID != u.ID {
		t.Errorf("UseDjangoRefreshToken(unknown, before the cut-over) = %+v, %v, want alice", got, err)
	}
	if _, err := db.RefreshToken(ctx, tok.JTI); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("UseDjangoRefreshToken recorded the token: %v", err)
	}
	_, err = db.UseDjangoRefreshToken(ctx, tok, cutoverAt.Add(window), window)
	wantIs(t, "UseDjangoRefreshToken(after the window)", err, ciphemic.ErrTokenUnknown)
	late := unknownDjango(jti("dj-verify-", 2), u.ID, cutoverAt.Add(time.Second))
	_, err = db.UseDjangoRefreshToken(ctx, late, t0, window)
	wantIs(t, "UseDjangoRefreshToken(issued after the cut-over)", err, ciphemic.ErrTokenUnknown)
	wantIs(t, "RotateDjangoRefreshToken()", rotateDjango(db, tok, jti("next-", 1), t0), nil)
	_, err = db.UseDjangoRefreshToken(ctx, tok, t0, window)
	wantIs(t, "UseDjangoRefreshToken(spent)", err, ciphemic.ErrTokenBlacklisted)
}
