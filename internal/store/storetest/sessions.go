package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// sessionTests are the session tests (issue 10), for Run.
var sessionTests = []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
}{
	{"StartSession", testStartSession},
	{"TouchSession", testTouchSession},
	{"RotateSessionRefreshToken", testRotateSessionRefreshToken},
	{"ListSessions", testListSessions},
	{"LiveSessionOtherUser", testLiveSessionOtherUser},
	{"EndOtherSessions", testEndOtherSessions},
	{"SessionsEndWithUser", testSessionsEndWithUser},
	{"SweepSessions", testSweepSessions},
}

// mustSession starts a session of userID named id, logged in at created, whose first
// refresh token expires a day later.
func mustSession(t *testing.T, db *store.DB, userID int64, id string, created time.Time) ciphemic.Session {
	t.Helper()
	s := ciphemic.Session{CreatedAt: created, LastUsedAt: created, ExpiresAt: created.Add(24 * time.Hour),
		UserAgent: "agent " + id[:4], ClientIP: "192.0.2.1"}
	rt := ciphemic.RefreshToken{JTI: id, UserID: userID, IssuedAt: created, ExpiresAt: s.ExpiresAt}
	if err := db.StartSession(context.Background(), s, rt); err != nil {
		t.Fatalf("StartSession(%s) = %v", id, err)
	}
	s.ID, s.UserID = id, userID
	return s
}

// sameSession reports whether two sessions are equal, instants to the microsecond.
func sameSession(a, b ciphemic.Session) bool {
	us := func(t time.Time) int64 { return t.UnixMicro() }
	return a.ID == b.ID && a.UserID == b.UserID && us(a.CreatedAt) == us(b.CreatedAt) &&
		us(a.LastUsedAt) == us(b.LastUsedAt) && us(a.ExpiresAt) == us(b.ExpiresAt) &&
		a.UserAgent == b.UserAgent && a.ClientIP == b.ClientIP
}

func sessionIDs(list []ciphemic.Session) string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID[:4]
	}
	return strings.Join(ids, ",")
}

// testStartSession: a login records its token and its session together; a duplicate jti
// records neither.
func testStartSession(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	want := mustSession(t, db, alice.ID, jti("s", 1), t0)
	got, err := db.Session(ctx, want.ID)
	if err != nil || !sameSession(got, want) {
		t.Errorf("Session() = %+v, %v; want %+v", got, err, want)
	}
	if rt := mustRefreshToken(t, db, want.ID); rt.FamilyID != want.ID || rt.UserID != alice.ID {
		t.Errorf("the session's token = %+v, want family %s of user %d", rt, want.ID, alice.ID)
	}
	err = db.StartSession(ctx, ciphemic.Session{CreatedAt: t0}, ciphemic.RefreshToken{JTI: want.ID, UserID: alice.ID, ExpiresAt: t0.Add(time.Hour)})
	wantCode(t, "StartSession(duplicate jti)", err, ciphemic.CodeConflict, "")
	_, err = db.Session(ctx, jti("s", 2))
	wantCode(t, "Session(unknown)", err, ciphemic.CodeNotFound, "")
	long := strings.Repeat("é", ciphemic.UserAgentMax+10)
	s := ciphemic.Session{CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour), UserAgent: long}
	if err := db.StartSession(ctx, s, ciphemic.RefreshToken{JTI: jti("s", 3), UserID: alice.ID, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Session(ctx, jti("s", 3)); got.UserAgent != long[:2*ciphemic.UserAgentMax] {
		t.Errorf("a %d-character user agent is kept as %d characters, want %d", len([]rune(long)), len([]rune(got.UserAgent)), ciphemic.UserAgentMax)
	}
}

// testTouchSession: a refresh moves the last use, expiry and client of a session and keeps
// its login; an unrecorded family becomes a session.
func testTouchSession(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	s := mustSession(t, db, alice.ID, jti("s", 1), t0)
	touched := s
	touched.CreatedAt = t0.Add(time.Hour) // ignored: the login stays
	touched.LastUsedAt, touched.ExpiresAt = t0.Add(time.Hour), t0.Add(25*time.Hour)
	touched.UserAgent, touched.ClientIP = "other agent", "2001:db8::1"
	if err := db.TouchSession(ctx, touched); err != nil {
		t.Fatal(err)
	}
	touched.CreatedAt = t0
	if got, err := db.Session(ctx, s.ID); err != nil || !sameSession(got, touched) {
		t.Errorf("Session() after TouchSession = %+v, %v; want %+v", got, err, touched)
	}
	legacy := ciphemic.Session{ID: jti("s", 2), UserID: alice.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := db.TouchSession(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Session(ctx, legacy.ID); err != nil || !sameSession(got, legacy) {
		t.Errorf("Session() of a family touched first = %+v, %v; want %+v", got, err, legacy)
	}
}

// testRotateSessionRefreshToken: a rotation records its session's refresh in its own
// transaction: when it commits the session moved, and when it fails (a spent token, a
// session record of another session) the session did not, nor the token.
func testRotateSessionRefreshToken(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	s := mustSession(t, db, alice.ID, jti("s", 1), t0)
	at := t0.Add(time.Hour)
	touched := s
	touched.LastUsedAt, touched.ExpiresAt = at, at.Add(24*time.Hour)
	touched.UserAgent, touched.ClientIP = "refreshing agent", "198.51.100.7"
	next := ciphemic.RefreshToken{JTI: jti("s", 2), UserID: alice.ID, FamilyID: s.ID, IssuedAt: at, ExpiresAt: touched.ExpiresAt}
	e := ciphemic.AuditEvent{Kind: ciphemic.AuditTokenRefresh, ActorID: alice.ID, UserID: alice.ID, At: at}
	if _, err := db.RotateSessionRefreshToken(ctx, s.ID, next, true, at, e, touched); err != nil {
		t.Fatalf("RotateSessionRefreshToken() = %v", err)
	}
	if got, err := db.Session(ctx, s.ID); err != nil || !sameSession(got, touched) {
		t.Errorf("Session() after the rotation = %+v, %v; want %+v", got, err, touched)
	}
	// The spent token again: refused, and the session keeps the winner's record.
	late := touched
	late.LastUsedAt, late.UserAgent = at.Add(time.Minute), "replayed agent"
	again := ciphemic.RefreshToken{JTI: jti("s", 3), UserID: alice.ID, FamilyID: s.ID, IssuedAt: at, ExpiresAt: touched.ExpiresAt}
	if _, err := db.RotateSessionRefreshToken(ctx, s.ID, again, true, at.Add(time.Minute), e, late); err == nil {
		t.Fatal("RotateSessionRefreshToken(spent token) = nil, want an error")
	}
	if got, _ := db.Session(ctx, s.ID); !sameSession(got, touched) {
		t.Errorf("a refused rotation changed its session: %+v, want %+v", got, touched)
	}
	// A record for another session is refused with the rotation.
	other := mustSession(t, db, alice.ID, jti("o", 4), t0)
	wrong := other
	wrong.LastUsedAt = at
	third := ciphemic.RefreshToken{JTI: jti("s", 5), UserID: alice.ID, FamilyID: s.ID, IssuedAt: at, ExpiresAt: touched.ExpiresAt}
	_, err := db.RotateSessionRefreshToken(ctx, next.JTI, third, true, at, e, wrong)
	wantIs(t, "RotateSessionRefreshToken(another session's record)", err, ciphemic.ErrTokenUnknown)
	if got, _ := db.Session(ctx, other.ID); !sameSession(got, other) {
		t.Errorf("another session's record was written: %+v, want %+v", got, other)
	}
	if rt := mustRefreshToken(t, db, next.JTI); !rt.BlacklistedAt.IsZero() {
		t.Errorf("the refused rotation spent its token: %+v", rt)
	}
}

// testListSessions: only live sessions are listed (a session whose refresh tokens are all
// spent, expired or revoked with its user is not), newest first by default, filtered by
// the idle and absolute bounds, and paged.
func testListSessions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	old := mustSession(t, db, alice.ID, jti("a", 1), t0.Add(-3*time.Hour))
	mid := mustSession(t, db, alice.ID, jti("b", 2), t0.Add(-2*time.Hour))
	recent := mustSession(t, db, alice.ID, jti("c", 3), t0.Add(-time.Hour))
	ended := mustSession(t, db, alice.ID, jti("d", 4), t0.Add(-30*time.Minute))
	mustSession(t, db, bob.ID, jti("e", 5), t0)
	wantIs(t, "BlacklistRefreshToken()", db.BlacklistRefreshToken(ctx, ended.ID, t0), nil)
	// mid was refreshed last: its first token is spent, its successor live.
	mustRotate(t, db, mid.ID, jti("b", 6), t0.Add(-time.Minute))
	if err := db.TouchSession(ctx, ciphemic.Session{ID: mid.ID, UserID: alice.ID, LastUsedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	list := func(f ciphemic.SessionFilter, q ciphemic.ListQuery) string {
		t.Helper()
		f.UserID, f.Now = alice.ID, t0
		got, n, err := db.ListSessions(ctx, f, q)
		if err != nil {
			t.Fatalf("ListSessions(%+v, %+v) = %v", f, q, err)
		}
		if int(n) < len(got) {
			t.Errorf("ListSessions(%+v) count %d < %d rows", f, n, len(got))
		}
		return sessionIDs(got)
	}
	newest := ciphemic.ListQuery{OrderBy: "created_at", Descending: true}
	tests := []struct {
		name string
		f    ciphemic.SessionFilter
		q    ciphemic.ListQuery
		want string
	}{
		{"newest first", ciphemic.SessionFilter{}, newest, "c000,b000,a000"},
		{"by last use", ciphemic.SessionFilter{}, ciphemic.ListQuery{OrderBy: "last_used_at", Descending: true}, "b000,c000,a000"},
		{"idle bound", ciphemic.SessionFilter{IdleSince: t0.Add(-90 * time.Minute)}, newest, "c000,b000"},
		{"absolute bound", ciphemic.SessionFilter{CreatedSince: t0.Add(-150 * time.Minute)}, newest, "c000,b000"},
		{"page", ciphemic.SessionFilter{}, ciphemic.ListQuery{OrderBy: "created_at", Limit: 1, Offset: 1}, "b000"},
	}
	for _, tt := range tests {
		if got := list(tt.f, tt.q); got != tt.want {
			t.Errorf("%s: ListSessions = %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, _, err := db.ListSessions(ctx, ciphemic.SessionFilter{UserID: alice.ID, Now: t0}, ciphemic.ListQuery{OrderBy: "user_agent"}); ciphemic.ErrorCode(err) != ciphemic.CodeInvalid {
		t.Errorf("ListSessions(ordering user_agent) = %v, want invalid", err)
	}
	// Past its token's expiry a session is no longer live.
	got, _, err := db.ListSessions(ctx, ciphemic.SessionFilter{UserID: alice.ID, Now: old.ExpiresAt}, newest)
	if err != nil || sessionIDs(got) != "c000,b000" {
		t.Errorf("ListSessions at the first session's expiry = %s, %v; want c000,b000", sessionIDs(got), err)
	}
	_ = recent
}

// testLiveSessionOtherUser: another user's session, an ended one and an unknown id are
// all CodeNotFound, so that session ids cannot be probed.
func testLiveSessionOtherUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	mine := mustSession(t, db, alice.ID, jti("a", 1), t0)
	theirs := mustSession(t, db, bob.ID, jti("b", 1), t0)
	f := ciphemic.SessionFilter{UserID: alice.ID, Now: t0}
	if got, err := db.LiveSession(ctx, f, mine.ID); err != nil || !sameSession(got, mine) {
		t.Errorf("LiveSession(own) = %+v, %v; want %+v", got, err, mine)
	}
	_, err := db.LiveSession(ctx, f, theirs.ID)
	wantCode(t, "LiveSession(another user's)", err, ciphemic.CodeNotFound, "")
	_, err = db.LiveSession(ctx, f, jti("z", 9))
	wantCode(t, "LiveSession(unknown)", err, ciphemic.CodeNotFound, "")
	wantIs(t, "RevokeFamily()", db.RevokeFamily(ctx, mine.ID, alice.ID, t0, t0.Add(time.Hour)), nil)
	_, err = db.LiveSession(ctx, f, mine.ID)
	wantCode(t, "LiveSession(ended)", err, ciphemic.CodeNotFound, "")
}

// testEndOtherSessions: every session of the user but the kept one ends (its tokens
// blacklisted, a family revocation logged for every instance); the kept one and other
// users' sessions live on.
func testEndOtherSessions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	keep := mustSession(t, db, alice.ID, jti("a", 1), t0.Add(-time.Hour))
	other1 := mustSession(t, db, alice.ID, jti("b", 2), t0.Add(-time.Hour))
	other2 := mustSession(t, db, alice.ID, jti("c", 3), t0.Add(-time.Hour))
	bobs := mustSession(t, db, bob.ID, jti("d", 4), t0.Add(-time.Hour))
	ended, err := db.EndOtherSessions(ctx, alice.ID, keep.ID, t0, t0.Add(10*time.Minute))
	if err != nil || strings.Join(ended, ",") != other1.ID+","+other2.ID {
		t.Fatalf("EndOtherSessions() = %v, %v; want [%s %s]", ended, err, other1.ID, other2.ID)
	}
	f := ciphemic.SessionFilter{UserID: alice.ID, Now: t0}
	if got, _, err := db.ListSessions(ctx, f, ciphemic.ListQuery{}); err != nil || sessionIDs(got) != "a000" {
		t.Errorf("ListSessions after EndOtherSessions = %s, %v; want only the kept a000", sessionIDs(got), err)
	}
	if _, err := db.UseRefreshToken(ctx, other1.ID, t0); !strings.Contains(ciphemic.ErrorMessage(err), "blacklisted") {
		t.Errorf("UseRefreshToken(ended session) = %v, want blacklisted", err)
	}
	for _, id := range []string{keep.ID, bobs.ID} {
		if _, err := db.UseRefreshToken(ctx, id, t0); err != nil {
			t.Errorf("UseRefreshToken(%s) = %v, want it live", id, err)
		}
	}
	revs, err := db.RevocationsSince(ctx, t0.Add(-time.Second))
	families := map[string]bool{}
	for _, r := range revs {
		families[r.FamilyID] = r.UserID == alice.ID
	}
	if err != nil || len(revs) != 2 || !families[other1.ID] || !families[other2.ID] {
		t.Errorf("RevocationsSince() = %+v, %v; want one family revocation per ended session", revs, err)
	}
	if ended, err := db.EndOtherSessions(ctx, alice.ID, keep.ID, t0, t0.Add(10*time.Minute)); err != nil || len(ended) != 2 {
		// Ended sessions may still have live access tokens: they are announced again.
		t.Errorf("EndOtherSessions() again = %v, %v; want the same two re-announced", ended, err)
	}
}

// testSessionsEndWithUser: revoking a user (revoke-all, password change) ends all their
// sessions; deleting the user deletes them.
func testSessionsEndWithUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	s := mustSession(t, db, alice.ID, jti("a", 1), t0.Add(-time.Hour))
	wantIs(t, "RevokeUser()", db.RevokeUser(ctx, alice.ID, t0, t0.Add(time.Hour)), nil)
	got, n, err := db.ListSessions(ctx, ciphemic.SessionFilter{UserID: alice.ID, Now: t0}, ciphemic.ListQuery{})
	if err != nil || n != 0 || len(got) != 0 {
		t.Errorf("ListSessions after RevokeUser = %d %s, %v; want none", n, sessionIDs(got), err)
	}
	if err := db.DeleteUser(ctx, alice.ID, t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = db.Session(ctx, s.ID)
	wantCode(t, "Session() of a deleted user", err, ciphemic.CodeNotFound, "")
}

// testSweepSessions: housekeeping deletes the sessions whose newest refresh token has
// expired, and only those.
func testSweepSessions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	gone := mustSession(t, db, alice.ID, jti("a", 1), t0.Add(-25*time.Hour))
	kept := mustSession(t, db, alice.ID, jti("b", 2), t0.Add(-time.Hour))
	swept, err := db.Sweep(ctx, store.Sweep{Now: t0, Pause: -1})
	if err != nil || swept.Sessions != 1 || swept.RefreshTokens != 1 {
		t.Errorf("Sweep() = %+v, %v; want one session and its token deleted", swept, err)
	}
	_, err = db.Session(ctx, gone.ID)
	wantCode(t, "Session(expired)", err, ciphemic.CodeNotFound, "")
	if _, err := db.Session(ctx, kept.ID); err != nil {
		t.Errorf("Session(live) after Sweep = %v", err)
	}
}
