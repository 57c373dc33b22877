package storebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// concurrentChains is how many refresh chains RotateConcurrent runs at once: the load
// benchmark's (go run ./bench) refresh scenario.
const concurrentChains = 8

// RotateConcurrent is the store's part of the load benchmark's refresh scenario: eight
// sessions of one user refresh at once, each presenting the token its last rotation
// returned, and each rotation records its session and an audit event in its
// transaction, as POST /api/token/refresh/ does. ns/op is the time per rotation of the
// whole, so it shows what the writer can do when rotations overlap (on SQLite they share
// transactions) rather than what one costs alone.
func RotateConcurrent(b *testing.B, be Backend) {
	ctx := context.Background()
	db, _ := be.Open(b)
	// "!" is Django's unusable password, as the seeded users have: no login is measured.
	u, err := db.CreateUser(ctx, ciphemic.User{Username: "bench", Email: "bench@example.com", Role: ciphemic.RoleStudent,
		IsActive: true, PasswordHash: "!"})
	if err != nil {
		b.Fatalf("CreateUser() = %v", err)
	}
	now := time.Now()
	heads := make([]string, concurrentChains)
	for i := range heads {
		heads[i] = fmt.Sprintf("chain%027d", i)
		rt := ciphemic.RefreshToken{JTI: heads[i], UserID: u.ID, IssuedAt: now, ExpiresAt: now.Add(lifetime)}
		if err := db.CreateRefreshToken(ctx, rt); err != nil {
			b.Fatalf("CreateRefreshToken() = %v", err)
		}
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range heads {
		rng := rand.New(rand.NewPCG(uint64(i), 7)) // #nosec G404 -- a benchmark's token ids
		wg.Go(func() {
			family, head := heads[i], heads[i]
			for left.Add(-1) >= 0 {
				at := time.Now()
				next := ciphemic.RefreshToken{JTI: jtiAt(rng, at.UnixMicro()), UserID: u.ID, FamilyID: family, ExpiresAt: at.Add(lifetime)}
				touch := ciphemic.Session{ID: family, UserID: u.ID, CreatedAt: now, LastUsedAt: at, ExpiresAt: next.ExpiresAt,
					UserAgent: "bench", ClientIP: "127.0.0.1"}
				e := ciphemic.AuditEvent{Kind: ciphemic.AuditTokenRefresh, ActorID: u.ID, UserID: u.ID, ClientIP: "127.0.0.1"}
				if _, err := db.RotateSessionRefreshToken(ctx, head, next, true, at, e, touch); err != nil {
					b.Errorf("RotateSessionRefreshToken(%s) = %v", head, err)
					return
				}
				head = next.JTI
			}
		})
	}
	wg.Wait()
	b.StopTimer()
}
