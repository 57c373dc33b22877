package token

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// max bounds the entries held (SetMax); 0 means DefaultRevocationViewMax.
	max int

	mu       sync.RWMutex
	jtis     map[string]time.Time     // revoked access-token jti → when it expires anyway
	families map[string]time.Time     // revoked session (sid) → when its tokens have all expired
	users    map[int64]userRevocation // user → tokens issued at or before validAfter are revoked
	// last is the start of the last successful Sync (UnixNano; 0: none yet). It and full
	// are read by every protected request, so they are atomics, not under mu.
	last atomic.Int64
	// full is set while Apply had to leave out revocations for want of room: the view
	// then cannot answer Revoked truthfully, and Full tells callers to fail closed.
	full atomic.Bool
	// observe, when set, is told how long each revocation a Sync brought took to reach
	// the view (SetObserver).
	observe func(delay time.Duration)

	syncMu sync.Mutex // one Sync at a time, so that last only moves forward
}

type userRevocation struct {
	validAfter time.Time // truncated to the millisecond
	expiresAt  time.Time
}

// DefaultRevocationViewMax is how many revoked tokens, sessions and users a view holds at
// most unless SetMax says otherwise: at about 150 bytes each, 30 MiB. Entries leave when
// the tokens they stop expire (five minutes for an access token), so reaching it takes
// far more logouts than any real traffic makes.
const DefaultRevocationViewMax = 200_000

// SetMax sets how many entries the view holds at most (0: DefaultRevocationViewMax).
// It is meant to be called before the view is shared.
func (v *RevocationView) SetMax(n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.max = n
}

// Full reports whether revocations were left out for want of room since the entries
// last fitted: a view that is full cannot tell a revoked token from a live one, so
// protected routes must fail closed.
func (v *RevocationView) Full() bool {
	return v.full.Load()
}

// SetObserver makes the view call observe, with v's lock held, once for every revocation
// a Sync brings that the view did not hold (not for re-reads, nor for what Apply already
// told it: this instance's own revocations arrive at once), with how long after the
// revocation's CreatedAt it arrived: the propagation delay between instances an operator
// watches. observe must be quick and must not call back into the view. nil stops.
func (v *RevocationView) SetObserver(observe func(delay time.Duration)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.observe = observe
}

// Len returns the number of revoked tokens, sessions and users the view holds.
func (v *RevocationView) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.size()
}

// size is the number of entries held; v.mu must be held.
func (v *RevocationView) size() int {
	return len(v.jtis) + len(v.families) + len(v.users)
}

// room reports whether one more entry fits; v.mu must be held. When it does not, the
// view is marked full rather than dropping a revocation.
func (v *RevocationView) room() bool {
	limit := v.max
	if limit <= 0 {
		limit = DefaultRevocationViewMax
	}
	if v.size() < limit {
		return true
	}
	v.full.Store(true)
	return false
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
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apply(revs, nil)
}

// apply is Apply with v.mu held, telling observe (if not nil) how late each new revocation
// arrived; it reports whether any revocation was left out for want of room (the view is
// then marked full).
func (v *RevocationView) apply(revs []ciphemic.Revocation, observe func(time.Duration)) (dropped bool) {
	now := v.now()
	for _, r := range revs {
		if !r.ExpiresAt.After(now) {
			continue
		}
		added, ok := v.applyOne(r)
		if !ok {
			dropped = true
		}
		if added && observe != nil && !r.CreatedAt.IsZero() {
			observe(now.Sub(r.CreatedAt))
		}
	}
	return dropped
}

// applyOne records r; v.mu must be held. added reports whether r told the view something
// new (a re-read of a held revocation does not); ok is false when r was left out for want
// of room.
func (v *RevocationView) applyOne(r ciphemic.Revocation) (added, ok bool) {
	switch {
	case r.JTI != "":
		return v.applyExpiry(v.jtis, r.JTI, r.ExpiresAt)
	case r.FamilyID != "":
		return v.applyExpiry(v.families, r.FamilyID, r.ExpiresAt)
	case r.UserID <= 0:
		return false, true
	}
	u, held := v.users[r.UserID]
	if !held && !v.room() {
		return false, false
	}
	validAfter := r.ValidAfter.Truncate(time.Millisecond)
	added = !held || validAfter.After(u.validAfter)
	u.validAfter = later(u.validAfter, validAfter)
	u.expiresAt = later(u.expiresAt, r.ExpiresAt)
	v.users[r.UserID] = u
	return added, true
}

// applyExpiry records key in m until expiresAt, as applyOne reports it; v.mu must be held.
func (v *RevocationView) applyExpiry(m map[string]time.Time, key string, expiresAt time.Time) (added, ok bool) {
	old, held := m[key]
	if !held && !v.room() {
		return false, false
	}
	m[key] = later(old, expiresAt)
	return !held, true
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
	// A full view may have left revocations out, which no later poll re-reads: it reads
	// everything again, until all of it fits.
	if last := v.LastSync(); !last.IsZero() && !v.Full() {
		since = last.Add(-syncOverlap)
	}
	revs, err := src.RevocationsSince(ctx, since)
	if err != nil {
		return fmt.Errorf("sync revocations: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.forget(start)
	if dropped := v.apply(revs, v.observe); since.IsZero() && !dropped {
		v.full.Store(false)
	}
	v.last.Store(start.UnixNano())
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
	n := v.last.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
