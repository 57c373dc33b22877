package store

import (
	"context"
	"sync"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// DefaultUserCacheSize is how many users a DB keeps in memory unless WithUserCache says
// otherwise: at a few hundred bytes each, about 3 MiB.
const DefaultUserCacheSize = 10_000

// userCacheMaxAge bounds how long an entry is served without a read, as a backstop: the
// change feed (RevocationsSince) already drops an entry within a revocation sync of any
// change, here or on another instance.
const userCacheMaxAge = 30 * time.Second

// userCache keeps users by id for DB.User, the read behind every GET /api/me/ and every
// handler that needs the caller's account. It is bounded (a random entry makes room)
// and never serves a user past a change it knows of:
//
//   - every write of a users row on this DB forgets the user once it has committed;
//   - RevocationsSince, which each instance's revocation view polls, also forgets the
//     users changed (changed_at) or revoked since its last poll, on whichever instance
//     the change was made; a deleted user's row is gone, but deletion logs a revocation;
//   - a read that raced a write does not fill the cache: every forget moves gen on, and
//     a read stores its result only if gen did not move while it ran.
type userCache struct {
	max int
	now func() time.Time

	mu      sync.RWMutex // read-locked by get, the call of nearly every request
	entries map[int64]cachedUser
	gen     uint64
}

type cachedUser struct {
	user ciphemic.User
	at   time.Time
}

func newUserCache(max int, now func() time.Time) *userCache {
	return &userCache{max: max, now: now, entries: make(map[int64]cachedUser)}
}

// get returns the cached user id, or the generation a read must present to put.
func (c *userCache) get(id int64) (ciphemic.User, bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[id]
	if ok && c.now().Sub(e.at) < userCacheMaxAge {
		return e.user, true, c.gen
	}
	return ciphemic.User{}, false, c.gen
}

// put stores u as read by a read that began at generation gen, unless something was
// forgotten since.
func (c *userCache) put(u ciphemic.User, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.max <= 0 {
		return
	}
	if _, ok := c.entries[u.ID]; !ok && len(c.entries) >= c.max {
		for id := range c.entries { // map order is random enough to pick a victim
			delete(c.entries, id)
			break
		}
	}
	c.entries[u.ID] = cachedUser{user: u, at: c.now()}
}

// forget drops the users ids.
func (c *userCache) forget(ids ...int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.entries, id)
	}
}

// clear drops every user.
func (c *userCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// WithUserCache sets how many users DB.User keeps in memory (userCache); 0 turns the
// cache off.
func WithUserCache(size int) Option {
	return func(db *DB) { db.users = newUserCache(size, db.clock) }
}

// forgetUsersChangedSince drops from the cache the users whose rows changed at or after
// since and those the revocations rs name: the cache's share of the change feed. A zero
// since (the first poll) clears the cache.
func (db *DB) forgetUsersChangedSince(ctx context.Context, since time.Time, rs []ciphemic.Revocation) error {
	if since.IsZero() {
		db.users.clear()
		return nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM users WHERE changed_at >= $1`, micros(since))
	if err != nil {
		return err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.UserID > 0 {
			ids = append(ids, r.UserID)
		}
	}
	if len(ids) > 0 {
		db.users.forget(ids...)
	}
	return nil
}
