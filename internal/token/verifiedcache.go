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
//   - an entry holds the token's whole text and answers only that text, so a token that
//     differs in any byte (another signature, payload or header) is verified from
//     scratch. The map's key is only the text's last cacheKeyLen bytes, which are
//     signature: hashing those instead of the whole token (some 400 bytes) is most of
//     what a hit saves, and the one comparison of the whole text on a hit is cheap;
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
	text   string
	claims Claims
	kid    string
}

// cacheKeyLen is how many of a token's last bytes key its entry. They are signature: an
// HS256 signature is 43 characters and EdDSA's 86, so two verified tokens of distinct
// texts share them only if their signatures collide. Should they, the second is simply
// verified on every use.
const cacheKeyLen = 32

// cacheKey is the map key of the token text raw.
func cacheKey(raw string) string {
	return raw[max(0, len(raw)-cacheKeyLen):]
}

func newVerifiedCache(max int) *verifiedCache {
	if max <= 0 {
		return nil
	}
	return &verifiedCache{max: max}
}

// get returns the entry of raw if it has not expired at now with leeway. Entries are
// never changed once stored, so the caller may keep the pointer.
func (c *verifiedCache) get(raw string, now time.Time, leeway time.Duration) (*verifiedEntry, bool) {
	if c == nil {
		return nil, false
	}
	v, ok := c.entries.Load(cacheKey(raw))
	if !ok {
		return nil, false
	}
	e := v.(*verifiedEntry)
	if e.text != raw || !now.Before(e.claims.ExpiresAt.Add(leeway)) {
		return nil, false
	}
	return e, true
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
	text := strings.Clone(raw)
	if _, loaded := c.entries.LoadOrStore(cacheKey(text), &verifiedEntry{text: text, claims: claims, kid: kid}); !loaded {
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
