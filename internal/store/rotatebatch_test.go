package store_test

import (
	"context"
	"database/sql"
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
	bs := newBatchStore(t)
	db, now := bs.db, bs.now
	alice := bs.user("alice", nil)
	idle := bs.user("idle", func(u *ciphemic.User) { u.IsActive = false })
	revoked := bs.user("revoked", func(u *ciphemic.User) { u.TokensValidAfter = now.Add(-time.Minute) })
	for _, jti := range []string{"a1", "a2", "a3", "a4", "taken"} {
		bs.token(alice.ID, jti)
	}
	bs.token(idle.ID, "idle")
	bs.token(revoked.ID, "revoked")

	next, audited := bs.next, bs.audited(alice.ID)
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

// TestRotateInOneBatchStoreFailure: a batch whose transaction the store itself rolls back
// in the middle (SQLite does on some I/O errors; a trigger's RAISE(ROLLBACK) does it here,
// for one token's spend) must not go on as if it had not. The rotation before the failure
// was undone with the transaction and the one after would run outside any: both must be
// run again and stored, and only the failed one answers with an error.
func TestRotateInOneBatchStoreFailure(t *testing.T) {
	ctx := context.Background()
	bs := newBatchStore(t)
	alice := bs.user("alice", nil)
	for _, jti := range []string{"b1", "doomed", "b2"} {
		bs.token(alice.ID, jti)
	}
	raw, err := sql.Open("sqlite", bs.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `CREATE TRIGGER fail_doomed BEFORE UPDATE ON refresh_tokens
		WHEN OLD.jti = 'doomed' BEGIN SELECT RAISE(ROLLBACK, 'injected store failure'); END`); err != nil {
		t.Fatal(err)
	}
	errs := bs.db.RotateInOneBatch([]store.BatchRotation{
		{Old: "b1", Next: bs.next("b1-next"), Audit: bs.audited(alice.ID)("b1")},
		{Old: "doomed", Next: bs.next("doomed-next"), Audit: bs.audited(alice.ID)("doomed")},
		{Old: "b2", Next: bs.next("b2-next"), Audit: bs.audited(alice.ID)("b2")},
	})
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("rotations = %v; want b1 and b2 to succeed and the failed one to answer with its error", errs)
	}
	for old, successor := range map[string]string{"b1": "b1-next", "b2": "b2-next"} {
		if rt, err := bs.db.RefreshToken(ctx, old); err != nil || rt.ReplacedBy != successor {
			t.Errorf("%s after the batch = %+v, %v; want it replaced by %s", old, rt, err, successor)
		}
	}
	if rt, err := bs.db.RefreshToken(ctx, "doomed"); err != nil || !rt.BlacklistedAt.IsZero() || rt.ReplacedBy != "" {
		t.Errorf("the failed rotation left its token as %+v, %v; want it unspent", rt, err)
	}
	if _, err := bs.db.RefreshToken(ctx, "doomed-next"); ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Errorf("the failed rotation's successor: RefreshToken() = %v, want not found", err)
	}
	events, _, err := bs.db.ListAuditEvents(ctx, ciphemic.AuditFilter{Kind: ciphemic.AuditTokenRefresh}, ciphemic.ListQuery{})
	if err != nil || len(events) != 2 || events[0].Detail != "b1" || events[1].Detail != "b2" {
		t.Errorf("refresh audit events = %+v, %v; want b1's and b2's, once each", events, err)
	}
}

// batchStore is a migrated SQLite store on a fresh file, for the batch tests.
type batchStore struct {
	t    *testing.T
	db   *store.DB
	path string
	now  time.Time
}

func newBatchStore(t *testing.T) batchStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ciphemic.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return batchStore{t: t, db: db, path: path, now: time.Now()}
}

// user creates the user name, changed by edit when it is not nil. "!" is Django's
// unusable password: no test here logs in.
func (bs batchStore) user(name string, edit func(*ciphemic.User)) ciphemic.User {
	bs.t.Helper()
	u := ciphemic.User{Username: name, Email: name + "@example.com", Role: ciphemic.RoleStudent, IsActive: true, PasswordHash: "!"}
	if edit != nil {
		edit(&u)
	}
	created, err := bs.db.CreateUser(context.Background(), u)
	if err != nil {
		bs.t.Fatal(err)
	}
	return created
}

// token stores a live refresh token jti of userID, issued an hour ago.
func (bs batchStore) token(userID int64, jti string) {
	bs.t.Helper()
	rt := ciphemic.RefreshToken{JTI: jti, UserID: userID, IssuedAt: bs.now.Add(-time.Hour), ExpiresAt: bs.now.Add(time.Hour)}
	if err := bs.db.CreateRefreshToken(context.Background(), rt); err != nil {
		bs.t.Fatal(err)
	}
}

// next is a successor token named jti.
func (bs batchStore) next(jti string) ciphemic.RefreshToken {
	return ciphemic.RefreshToken{JTI: jti, ExpiresAt: bs.now.Add(2 * time.Hour)}
}

// audited returns refresh audit events of userID, told apart by their detail.
func (bs batchStore) audited(userID int64) func(detail string) ciphemic.AuditEvent {
	return func(detail string) ciphemic.AuditEvent {
		return ciphemic.AuditEvent{Kind: ciphemic.AuditTokenRefresh, UserID: userID, ActorID: userID, Detail: detail}
	}
}
