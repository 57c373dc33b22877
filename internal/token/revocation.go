package token

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// syncOverlap is how far back each Sync re-reads, so that a revocation committed late, or
// stamped by an instance whose clock is behind ours, is still seen. Re-reading is harmless
// because Apply is idempotent.
const syncOverlap = 5 * time.Second

// RevocationSource is where revocations are recorded, read by every instance.
type RevocationSource interface {
	// RevocationsSince returns the revocations created at or after since.
	RevocationsSince(ctx context.Context, since time.Time) ([]ciphemic.Revocation, error)
}

// RevocationView is an instance's in-memory copy of the revocations that still matter. It
// answers Revoked without I/O; Sync and Run keep it up to date. It is safe for concurrent
// use.
type RevocationView struct {
	now func() time.Time

	mu       sync.RWMutex
	jtis     map[string]time.Time     // revoked access-token jti → when it expires anyway
	families map[string]time.Time     // revoked session (sid) → when its tokens have all expired
	users    map[int64]userRevocation // user → tokens issued at or before validAfter are revoked
	last     time.Time                // start of the last successful Sync

	syncMu sync.Mutex // one Sync at a time, so that last only moves forward
}

type userRevocation struct {
	validAfter time.Time // truncated to the millisecond
	expiresAt  time.Time
}

// NewRevocationView returns an empty view using now as its clock (nil: time.Now).
func NewRevocationView(now func() time.Time) *RevocationView {
	if now == nil {
		now = time.Now
	}
	return &RevocationView{
		now: now, jtis: map[string]time.Time{}, families: map[string]time.Time{}, users: map[int64]userRevocation{},
	}
}

// Apply records revocations. It is idempotent, so re-applying an entry is harmless; a user's
// ValidAfter only ever moves forward. Entries whose ExpiresAt has passed are ignored.
func (v *RevocationView) Apply(revs ...ciphemic.Revocation) {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range revs {
		if !r.ExpiresAt.After(now) {
			continue
		}
		if r.JTI != "" {
			v.jtis[r.JTI] = later(v.jtis[r.JTI], r.ExpiresAt)
			continue
		}
		if r.FamilyID != "" {
			v.families[r.FamilyID] = later(v.families[r.FamilyID], r.ExpiresAt)
			continue
		}
		if r.UserID <= 0 {
			continue
		}
		u := v.users[r.UserID]
		u.validAfter = later(u.validAfter, r.ValidAfter.Truncate(time.Millisecond))
		u.expiresAt = later(u.expiresAt, r.ExpiresAt)
		v.users[r.UserID] = u
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Revoked reports whether the token of c is revoked: its jti is listed, its session
// (sid) is, or it was issued (to the millisecond) at or before its user's ValidAfter. A
// revoked session stays revoked whenever its tokens were issued, since nothing can extend
// a dead family. It only reads memory.
func (v *RevocationView) Revoked(c Claims) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if _, ok := v.jtis[c.JTI]; ok {
		return true
	}
	if _, ok := v.families[c.SessionID]; ok && c.SessionID != "" {
		return true
	}
	u, ok := v.users[c.UserID]
	return ok && !c.IssuedAt.Truncate(time.Millisecond).After(u.validAfter)
}

// Sync polls src once: it reads the revocations created since the start of the last
// successful Sync minus an overlap (everything on the first Sync), applies them, forgets
// entries that have expired, and records when it started. On error the view is unchanged.
func (v *RevocationView) Sync(ctx context.Context, src RevocationSource) error {
	v.syncMu.Lock()
	defer v.syncMu.Unlock()
	start := v.now()
	var since time.Time
	if last := v.LastSync(); !last.IsZero() {
		since = last.Add(-syncOverlap)
	}
	revs, err := src.RevocationsSince(ctx, since)
	if err != nil {
		return fmt.Errorf("sync revocations: %w", err)
	}
	v.Apply(revs...)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.forget(start)
	v.last = start
	return nil
}

// forget drops the entries whose tokens have all expired by now; v.mu must be held.
func (v *RevocationView) forget(now time.Time) {
	for jti, exp := range v.jtis {
		if !exp.After(now) {
			delete(v.jtis, jti)
		}
	}
	for sid, exp := range v.families {
		if !exp.After(now) {
			delete(v.families, sid)
		}
	}
	for id, u := range v.users {
		if !u.expiresAt.After(now) {
			delete(v.users, id)
		}
	}
}

// Run calls Sync every interval (one second if interval is not positive) until ctx is done,
// starting at once. Failures are logged and retried at the next tick; the view keeps its
// last state meanwhile. A nil log discards.
func (v *RevocationView) Run(ctx context.Context, src RevocationSource, interval time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := v.Sync(ctx, src); err != nil && ctx.Err() == nil {
			log.Warn("revocation sync failed", "err", err, "last_sync", v.LastSync())
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// LastSync returns when the last successful Sync started, or the zero time before any.
func (v *RevocationView) LastSync() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.last
}
