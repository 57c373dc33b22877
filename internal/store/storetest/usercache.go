package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// testUserCacheLocal: every write of a user through a DB is seen by that DB's next
// User, though User is served from memory: the cache forgets on commit.
func testUserCacheLocal(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "cached")
	mustCachedUser(t, db, u.ID, "before any change", func(got ciphemic.User) bool { return got.Email == u.Email })

	u.Email = "changed@example.com"
	if _, err := db.UpdateUser(ctx, u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	mustCachedUser(t, db, u.ID, "after UpdateUser", func(got ciphemic.User) bool { return got.Email == "changed@example.com" })
	if err := db.RecordLogin(ctx, u.ID, t0, ""); err != nil {
		t.Fatal(err)
	}
	mustCachedUser(t, db, u.ID, "after RecordLogin", func(got ciphemic.User) bool { return got.LastLogin.Equal(t0.Truncate(time.Microsecond)) })
	if err := db.ChangePassword(ctx, u.ID, "new-hash", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustCachedUser(t, db, u.ID, "after ChangePassword", func(got ciphemic.User) bool { return got.PasswordHash == "new-hash" })
	u.IsActive = false
	if _, err := db.UpdateUser(ctx, u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	mustCachedUser(t, db, u.ID, "after deactivation", func(got ciphemic.User) bool { return !got.IsActive })
	if err := db.DeleteUser(ctx, u.ID, t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.User(ctx, u.ID); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("User(deleted user, once cached) = %v, want CodeNotFound", err)
	}
}

// mustCachedUser reads user id twice (the second read may come from the cache) and
// checks both with ok.
func mustCachedUser(t *testing.T, db *store.DB, id int64, when string, ok func(ciphemic.User) bool) {
	t.Helper()
	for range 2 {
		got, err := db.User(context.Background(), id)
		if err != nil || !ok(got) {
			t.Fatalf("User(%d) %s = %+v, %v; want the change seen", id, when, got, err)
		}
	}
}

// sharedUserCache: a change made through one DB reaches the user cache of another on
// the same database at its next revocation poll (RevocationsSince), however the user
// changed: edited, deactivated without a revocation, or deleted.
func sharedUserCache(t *testing.T, a, b *store.DB) {
	ctx := context.Background()
	poll := func(when string) {
		t.Helper()
		if _, err := b.RevocationsSince(ctx, t0.Add(-5*time.Second)); err != nil {
			t.Fatalf("RevocationsSince %s = %v", when, err)
		}
	}
	u := mustUser(t, a, "feed")
	mustCachedUser(t, b, u.ID, "on b", func(got ciphemic.User) bool { return got.Email == u.Email })

	u.Email = "feed-changed@example.com"
	if _, err := a.UpdateUser(ctx, u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	poll("after an edit on a")
	mustCachedUser(t, b, u.ID, "on b after a's edit and a poll", func(got ciphemic.User) bool { return got.Email == u.Email })

	u.IsActive = false // no revocation: only changed_at tells b
	if _, err := a.UpdateUser(ctx, u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	poll("after a deactivation on a")
	mustCachedUser(t, b, u.ID, "on b after a's deactivation and a poll", func(got ciphemic.User) bool { return !got.IsActive })

	u.IsActive = true
	if _, err := a.UpdateUser(ctx, u, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	poll("after a reactivation on a")
	mustCachedUser(t, b, u.ID, "on b after reactivation", func(got ciphemic.User) bool { return got.IsActive })
	if err := a.DeleteUser(ctx, u.ID, t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	poll("after a deletion on a")
	if _, err := b.User(ctx, u.ID); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("User(%d) on b after a deleted it and a poll = %v, want CodeNotFound", u.ID, err)
	}
}
