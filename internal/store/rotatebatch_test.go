package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
)

// TestRotateInOneBatch puts rotations that succeed, are refused in every way, and fail in
// a write after their spend into one batch of SQLite's rotation batcher. Each must answer
// as it would alone: a refused one writes nothing, and the one whose write fails leaves its
// token unspent without costing the others theirs.
func TestRotateInOneBatch(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "ciphemic.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	mkUser := func(name string, edit func(*ciphemic.User)) ciphemic.User {
		u := ciphemic.User{Username: name, Email: name + "@example.com", Role: ciphemic.RoleStudent, IsActive: true,
			PasswordHash: "argon2$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"} // #nosec G101 -- a fake hash of no password
		if edit != nil {
			edit(&u)
		}
		created, err := db.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	mkToken := func(userID int64, jti string) {
		rt := ciphemic.RefreshToken{JTI: jti, UserID: userID, IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	alice := mkUser("alice", nil)
	idle := mkUser("idle", func(u *ciphemic.User) { u.IsActive = false })
	revoked := mkUser("revoked", func(u *ciphemic.User) { u.TokensValidAfter = now.Add(-time.Minute) })
	for _, jti := range []string{"a1", "a2", "a3", "a4", "taken"} {
		mkToken(alice.ID, jti)
	}
	mkToken(idle.ID, "idle")
	mkToken(revoked.ID, "revoked")

	next := func(jti string) ciphemic.RefreshToken {
		return ciphemic.RefreshToken{JTI: jti, ExpiresAt: now.Add(2 * time.Hour)}
	}
	audited := func(detail string) ciphemic.AuditEvent {
		return ciphemic.AuditEvent{Kind: ciphemic.AuditTokenRefresh, UserID: alice.ID, ActorID: alice.ID, Detail: detail}
	}
	otherFamily := next("a3-next")
	otherFamily.FamilyID = "another-family"
	rots := []store.BatchRotation{
		{Old: "a1", Next: next("a1-next"), Audit: audited("a1")},
		{Old: "a1", Next: next("a1-again")},          // spent by the one before, in this transaction
		{Old: "idle", Next: next("idle-next")},       // inactive user
		{Old: "revoked", Next: next("revoked-next")}, // issued before the user's revocation
		{Old: "a3", Next: otherFamily},               // the successor names another family
		{Old: "a4", Next: next("taken")},             // admitted, then its successor's INSERT fails
		{Old: "unknown", Next: next("unknown-next")},
		{Old: "a2", Next: next("a2-next"), Audit: audited("a2")},
	}
	errs := db.RotateInOneBatch(rots)
	want := []error{nil, ciphemic.ErrTokenBlacklisted, ciphemic.ErrUserInactive, ciphemic.ErrTokenBlacklisted,
		ciphemic.ErrTokenUnknown, nil, ciphemic.ErrTokenUnknown, nil}
	for i, r := range rots {
		switch {
		case r.Old == "a4":
			if errs[i] == nil {
				t.Errorf("rotation of a4 to an existing jti = nil, want an error")
			}
		case want[i] == nil && errs[i] != nil, want[i] != nil && !errors.Is(errs[i], want[i]):
			t.Errorf("rotation %d (%s → %s) = %v, want %v", i, r.Old, r.Next.JTI, errs[i], want[i])
		}
	}
	var spent *store.SpentError
	if !errors.As(errs[1], &spent) || spent.Token.ReplacedBy != "a1-next" {
		t.Errorf("second rotation of a1 = %v, want a SpentError naming a1-next", errs[1])
	}
	for _, old := range []string{"idle", "revoked", "a3", "a4"} {
		rt, err := db.RefreshToken(ctx, old)
		if err != nil || !rt.BlacklistedAt.IsZero() || rt.ReplacedBy != "" {
			t.Errorf("refused rotation left %s as %+v, %v; want it unspent", old, rt, err)
		}
	}
	for _, n := range []string{"a1-again", "idle-next", "revoked-next", "a3-next", "unknown-next"} {
		if _, err := db.RefreshToken(ctx, n); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
			t.Errorf("successor %s of a refused rotation: RefreshToken() = %v, want not found", n, err)
		}
	}
	for old, successor := range map[string]string{"a1": "a1-next", "a2": "a2-next"} {
		rt, err := db.RefreshToken(ctx, old)
		if err != nil || rt.ReplacedBy != successor || rt.BlacklistedAt.IsZero() {
			t.Errorf("%s after its rotation = %+v, %v; want blacklisted, replaced by %s", old, rt, err, successor)
		}
		if got, err := db.RefreshToken(ctx, successor); err != nil || got.UserID != alice.ID || got.FamilyID != old {
			t.Errorf("successor %s = %+v, %v; want alice's, of family %s", successor, got, err, old)
		}
	}
	events, _, err := db.ListAuditEvents(ctx, ciphemic.AuditFilter{Kind: ciphemic.AuditTokenRefresh}, ciphemic.ListQuery{})
	if err != nil || len(events) != 2 || events[0].Detail != "a1" || events[1].Detail != "a2" {
		t.Errorf("refresh audit events = %+v, %v; want a1's and a2's", events, err)
	}
}
