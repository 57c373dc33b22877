package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// testRotateRace: of many concurrent rotations of one token exactly one wins; the others
// see it blacklisted, and only the winner's successor exists.
func testRotateRace(t *testing.T, db *store.DB) {
	const rounds, racers = 5, 32
	u := mustUser(t, db, "alice")
	for round := range rounds {
		old := mustToken(t, db, u.ID, jti(fmt.Sprintf("r%d-", round), 0))
		errs := rotateAtOnce(db, old.JTI, racers, func(i int) string {
			return jti(fmt.Sprintf("r%d-", round), i+1)
		})
		winner := ""
		for i, err := range errs {
			next := jti(fmt.Sprintf("r%d-", round), i+1)
			switch {
			case err == nil && winner == "":
				winner = next
			case err == nil:
				t.Errorf("round %d: rotations to %s and %s both succeeded", round, winner, next)
			case !errors.Is(err, ciphemic.ErrTokenBlacklisted):
				t.Errorf("round %d: RotateRefreshToken() = %v, want nil or %v", round, err, ciphemic.ErrTokenBlacklisted)
			}
			_, err := db.RefreshToken(context.Background(), next)
			if exists := err == nil; exists != (next == winner) {
				t.Errorf("round %d: successor %s exists = %t (RefreshToken() = %v), want %t", round, next, exists, err, next == winner)
			}
		}
		if winner == "" {
			t.Fatalf("round %d: no rotation succeeded", round)
		}
		if got := mustRefreshToken(t, db, old.JTI); got.ReplacedBy != winner {
			t.Errorf("round %d: old token replaced by %q, want %q", round, got.ReplacedBy, winner)
		}
	}
}

// rotateAtOnce starts n rotations of old together and returns their errors; the ith
// rotation's successor is named next(i).
func rotateAtOnce(db *store.DB, old string, n int, next func(i int) string) []error {
	return atOnceN(n, func(i int) error {
		rt := ciphemic.RefreshToken{JTI: next(i), ExpiresAt: t0.Add(time.Hour)}
		_, err := db.RotateRefreshToken(context.Background(), old, rt, true, t0)
		return err
	})
}

// atOnceN is atOnce (lastadmin.go) of f(0) … f(n-1).
func atOnceN(n int, f func(i int) error) []error {
	fns := make([]func() error, n)
	for i := range fns {
		fns[i] = func() error { return f(i) }
	}
	return atOnce(fns...)
}

// wantOneWinner checks that exactly one of the errors of concurrent uses of one refresh
// token is nil and every other is ErrTokenBlacklisted: the token was spent once.
func wantOneWinner(t *testing.T, what string, errs []error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ciphemic.ErrTokenBlacklisted):
			t.Errorf("%s = %v, want nil or %v", what, err, ciphemic.ErrTokenBlacklisted)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d concurrent uses succeeded, want exactly 1", what, wins, len(errs))
	}
}

// testConcurrentWrites: many writers at once must all succeed; on SQLite none may see
// SQLITE_BUSY.
func testConcurrentWrites(t *testing.T, db *store.DB) {
	const writers, logins = 16, 5
	ctx := context.Background()
	errs := make(chan error, writers*(logins+2))
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			u, err := db.CreateUser(ctx, newUser(jti("user", i)))
			if err != nil {
				errs <- fmt.Errorf("CreateUser(%d): %w", i, err)
				return
			}
			for j := range logins {
				if err := db.RecordLogin(ctx, u.ID, t0.Add(time.Duration(j)*time.Second), ""); err != nil {
					errs <- fmt.Errorf("RecordLogin(%d): %w", i, err)
				}
			}
			if _, err := db.CountUsers(ctx); err != nil {
				errs <- fmt.Errorf("CountUsers(): %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != writers {
		t.Errorf("CountUsers() = %d, %v, want %d", n, err, writers)
	}
}

// testRotateMixedConcurrent: many rotations at once, of many tokens — some presented
// twice, some of an inactive user, some audited — each answer as it would be alone:
// exactly one winner per token, the loser's answer a spent token, the inactive user's
// refused with nothing spent, every winner's successor and audit event stored. (SQLite
// commits concurrent rotations several to a transaction; TestRotateInOneBatch in package
// store makes sure of one such batch.)
func testRotateMixedConcurrent(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	idle := mustUser(t, db, "idle")
	const tokens = 12
	for i := range tokens {
		mustToken(t, db, alice.ID, jti("mix", i))
	}
	mustToken(t, db, idle.ID, jti("idle", 0))
	idle.IsActive = false
	if _, err := db.UpdateUser(ctx, idle, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	type call struct {
		old, next string
		err       error
	}
	var calls []*call
	for i := range tokens {
		calls = append(calls, &call{old: jti("mix", i), next: jti("mix-a", i)}, &call{old: jti("mix", i), next: jti("mix-b", i)})
	}
	calls = append(calls, &call{old: jti("idle", 0), next: jti("idle-next", 0)})
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			<-start
			e := ciphemic.AuditEvent{Kind: ciphemic.AuditTokenRefresh, UserID: alice.ID, ActorID: alice.ID, Detail: c.next}
			_, c.err = db.RotateRefreshTokenAudited(ctx, c.old, ciphemic.RefreshToken{JTI: c.next, ExpiresAt: t0.Add(time.Hour)}, true, t0, e)
		})
	}
	close(start)
	wg.Wait()
	won := map[string]string{}
	for _, c := range calls[:2*tokens] {
		switch {
		case c.err == nil && won[c.old] != "":
			t.Errorf("%s rotated twice: to %s and %s", c.old, won[c.old], c.next)
		case c.err == nil:
			won[c.old] = c.next
		case !errors.Is(c.err, ciphemic.ErrTokenBlacklisted):
			t.Errorf("rotation of %s = %v, want nil or ErrTokenBlacklisted", c.old, c.err)
		}
	}
	events, _, err := db.ListAuditEvents(ctx, ciphemic.AuditFilter{Kind: ciphemic.AuditTokenRefresh}, ciphemic.ListQuery{})
	if err != nil || len(events) != tokens {
		t.Errorf("refresh audit events = %d, %v; want one per winner, %d", len(events), err, tokens)
	}
	for old, next := range won {
		if got := mustRefreshToken(t, db, old); got.ReplacedBy != next {
			t.Errorf("%s replaced by %q, want the winner %q", old, got.ReplacedBy, next)
		}
		mustRefreshToken(t, db, next)
	}
	if len(won) != tokens {
		t.Errorf("%d of %d tokens rotated, want each once", len(won), tokens)
	}
	if idleCall := calls[len(calls)-1]; !errors.Is(idleCall.err, ciphemic.ErrUserInactive) {
		t.Errorf("rotation of an inactive user's token = %v, want ErrUserInactive", idleCall.err)
	}
	if got := mustRefreshToken(t, db, jti("idle", 0)); !got.BlacklistedAt.IsZero() || got.ReplacedBy != "" {
		t.Errorf("the refused rotation left %+v, want the token unspent", got)
	}
}
