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
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			rt := ciphemic.RefreshToken{JTI: next(i), ExpiresAt: t0.Add(time.Hour)}
			_, errs[i] = db.RotateRefreshToken(context.Background(), old, rt, true, t0)
		})
	}
	close(start)
	wg.Wait()
	return errs
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
