package token

import (
	"strings"
	"sync"
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
	max     int
	mu      sync.RWMutex
	entries map[string]verifiedEntry
}

type verifiedEntry struct {
	claims Claims
	kid    string
}

func newVerifiedCache(max int) *verifiedCache {
	if max <= 0 {
		return nil
	}
	return &verifiedCache{max: max, entries: make(map[string]verifiedEntry)}
}

// get returns the entry of raw if it has not expired at now with leeway.
func (c *verifiedCache) get(raw string, now time.Time, leeway time.Duration) (verifiedEntry, bool) {
	if c == nil {
		return verifiedEntry{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[raw]
	c.mu.RUnlock()
	if !ok || !now.Before(e.claims.ExpiresAt.Add(leeway)) {
		return verifiedEntry{}, false
	}
	return e, true
}

// put remembers the verified claims c of raw, signed by the key kid.
func (c *verifiedCache) put(raw string, claims Claims, kid string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k := range c.entries { // map order is random enough to pick a victim
			delete(c.entries, k)
			break
		}
	}
	// A copy, so that the entry keeps no larger string (a header, a body) alive.
	c.entries[strings.Clone(raw)] = verifiedEntry{claims: claims, kid: kid}
}
