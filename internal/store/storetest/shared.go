package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// RunShared checks that two stores over one database, as two server instances would
// have, cooperate: a and b must share a fresh database that neither has migrated.
// Both migrate at once, write at once, race to rotate the same refresh tokens, and
// race to take the admin role away from the last two active admins.
func RunShared(t *testing.T, a, b *store.DB) {
	ctx := context.Background()
	dbs := []*store.DB{a, b}
	for _, db := range dbs {
		setNow(db, t0)
	}
	mustAll(t, "Migrate()", 2, func(i int) error { return dbs[i].Migrate(ctx) })

	const users = 8
	mustAll(t, "CreateUser()", users, func(i int) error {
		db := dbs[i%2]
		u, err := db.CreateUser(ctx, newUser(jti("shared", i)))
		if err != nil {
			return err
		}
		if err := db.RecordLogin(ctx, u.ID, t0, ""); err != nil {
			return err
		}
		return db.CreateRefreshToken(ctx, ciphemic.RefreshToken{
			JTI: jti("tok", i), UserID: u.ID, IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(time.Hour),
		})
	})
	for i := range users {
		sharedRace(t, dbs, jti("tok", i))
	}
	// Two instances, each serving one of two admins who remove each other.
	raceLastAdmins(t, a, b, 2)
	sharedUserCache(t, a, b)
}

// sharedRace rotates old from both stores at once and checks that exactly one wins.
func sharedRace(t *testing.T, dbs []*store.DB, old string) {
	t.Helper()
	errs := atOnceN(16, func(i int) error {
		next := ciphemic.RefreshToken{JTI: fmt.Sprintf("%s-%d", old, i), ExpiresAt: t0.Add(time.Hour)}
		_, err := dbs[i%2].RotateRefreshToken(context.Background(), old, next, true, t0)
		return err
	})
	wantOneWinner(t, fmt.Sprintf("RotateRefreshToken(%s) from two stores", old), errs)
}

// mustAll runs fn(0) … fn(n-1) at once and fails t with every error.
func mustAll(t *testing.T, call string, n int, fn func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s #%d = %v", call, i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}
