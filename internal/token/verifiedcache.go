package token

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultVerifiedCacheSize is how many verified access tokens a Service remembers
// unless Config.VerifiedCacheSize says otherwise: at about 0.5 KiB each, 5 MiB.
const DefaultVerifiedCacheSize = 10_000

// verifiedCache remembers access tokens whose signature and claims were verified, so that
// a client presenting the same token again (every request of its five minutes) costs a
// map lookup instead of two base64 decodes, two JSON documents and an HMAC or signature.
//
// It never weakens a rule:
//   - it is keyed by the token's whole text, so a token that differs in any byte (another
//     signature, payload or header) is verified from scratch;
//   - an entry ends with the token's exp (plus the leeway, as the parser allows);
//   - it lives in the Service's state, so a new key set (SetKeys: a rotation, a reload,
//     a pruned key) starts with an empty cache, and a hit is still checked against the
//     retirement of the key that signed it;
//   - it only replaces the parse: the caller checks the type, and revocation is checked
//     by the caller on every request, hit or miss;
//   - it is bounded: when full, a random entry makes room.
type verifiedCache struct {
	max int
	// entries maps the token text to its verifiedEntry. A sync.Map, because nearly every
	// call is a read of a key that is already there, which it answers without a lock
	// shared between cores.
	entries sync.Map
	size    atomic.Int64
	// evict serialises the making of room, so that concurrent puts into a full cache
	// remove one entry each, not all the same one.
	evict sync.Mutex
}

type verifiedEntry struct {
	claims Claims
	kid    string
}

func newVerifiedCache(max int) *verifiedCache {
	if max <= 0 {
		return nil
	}
	return &verifiedCache{max: max}
}

// get returns the entry of raw if it has not expired at now with leeway.
func (c *verifiedCache) get(raw string, now time.Time, leeway time.Duration) (verifiedEntry, bool) {
	if c == nil {
		return verifiedEntry{}, false
	}
	v, ok := c.entries.Load(raw)
	if !ok {
		return verifiedEntry{}, false
	}
	e := v.(*verifiedEntry)
	if !now.Before(e.claims.ExpiresAt.Add(leeway)) {
		return verifiedEntry{}, false
	}
	return *e, true
}

// put remembers the verified claims c of raw, signed by the key kid.
func (c *verifiedCache) put(raw string, claims Claims, kid string) {
	if c == nil {
		return
	}
	if c.size.Load() >= int64(c.max) {
		c.makeRoom()
	}
	// A copy, so that the entry keeps no larger string (a header, a body) alive.
	if _, loaded := c.entries.LoadOrStore(strings.Clone(raw), &verifiedEntry{claims: claims, kid: kid}); !loaded {
		c.size.Add(1)
	}
}

// makeRoom removes one entry, the first that Range yields (an arbitrary one), while the
// cache is full.
func (c *verifiedCache) makeRoom() {
	c.evict.Lock()
	defer c.evict.Unlock()
	if c.size.Load() < int64(c.max) {
		return
	}
	c.entries.Range(func(k, _ any) bool {
		if _, ok := c.entries.LoadAndDelete(k); ok {
			c.size.Add(-1)
		}
		return false
	})
}

// len is how many entries the cache holds.
func (c *verifiedCache) len() int {
	if c == nil {
		return 0
	}
	return int(c.size.Load())
}
