package httpapi

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestCachedTokenRevokedAtOnce: an access token served from the verified cache is still
// checked against the revocation view on every request, so it is refused the moment its
// revocation reaches the view, with no cache to wait out.
func TestCachedTokenRevokedAtOnce(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(t, "testuser", "password")
	for range 2 { // the second is a cache hit
		if r := in.get(t, "/api/me/", access); r.status != 200 {
			t.Fatalf("GET /api/me/ = %d %s, want 200", r.status, r.body)
		}
	}
	c := in.mustClaims(t, access)
	in.view.Apply(ciphemic.Revocation{JTI: c.JTI, UserID: c.UserID, ExpiresAt: c.ExpiresAt, CreatedAt: in.clock.Now()})
	wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
}

// TestUserCacheAcrossInstances: two instances on one database each cache the user behind
// GET /api/me/. A change made through one is seen at once there and, on the other, at
// its next revocation sync; a user deactivated or deleted through one is never served
// from the other's cache after that sync, even where no token revocation says so.
func TestUserCacheAcrossInstances(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := newInstance(t, options{dbPath: dbPath, clock: clock})
	b := newInstance(t, options{dbPath: dbPath, clock: clock})
	u := a.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	access, _ := a.login(t, "alice", "password")
	sync := func() {
		t.Helper()
		clock.Advance(time.Millisecond)
		if err := b.view.Sync(t.Context(), b.db); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	email := func(in *instance) string {
		t.Helper()
		r := in.get(t, "/api/me/", access)
		if r.status != 200 {
			t.Fatalf("GET /api/me/ = %d %s, want 200", r.status, r.body)
		}
		return fmt.Sprint(r.json(t)["email"])
	}
	sync()
	email(b) // cached on b now
	u.Email = "alice@new.example"
	if _, err := a.db.UpdateUser(t.Context(), u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := email(a); got != u.Email {
		t.Errorf("email on the instance that changed it = %q, want %q at once", got, u.Email)
	}
	sync()
	if got := email(b); got != u.Email {
		t.Errorf("email on the other instance after a sync = %q, want %q", got, u.Email)
	}

	// Deactivated by a store write alone (no token revocation): only the cache's feed
	// can tell b.
	u.IsActive = false
	if _, err := a.db.UpdateUser(t.Context(), u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	wantStatusBody(t, a.get(t, "/api/me/", access), 401, `{"detail":"User is inactive","code":"user_inactive"}`)
	sync()
	wantStatusBody(t, b.get(t, "/api/me/", access), 401, `{"detail":"User is inactive","code":"user_inactive"}`)

	u.IsActive = true
	if _, err := a.db.UpdateUser(t.Context(), u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sync()
	email(b) // cached again, active
	if err := a.db.DeleteUser(t.Context(), u.ID, time.Time{}, clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sync()
	if r := b.get(t, "/api/me/", access); r.status != 401 {
		t.Errorf("GET /api/me/ on the other instance after the user was deleted = %d %s, want 401", r.status, r.body)
	}
}
