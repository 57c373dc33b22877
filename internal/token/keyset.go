package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// KeySet is the immutable set of keys in force. Current signs new tokens; every key of the
// set verifies, so that rotating keeps previous keys until the tokens they signed expire.
// A previous key whose retirement time is known (a key ring's) verifies only within the
// limits of its Retirement.
type KeySet struct {
	current *Key
	byID    map[string]*Key
	// ring holds the previous keys with a known retirement time, in the ring's order, and
	// retiredAt the same times by kid, for verification.
	ring       []RetiredKey
	retiredAt  map[string]time.Time
	retirement Retirement
	unbounded  []*Key   // previous keys of NewKeySet, without a retirement time
	algs       []string // the distinct algorithms of the keys, the only ones a token may use
	jwks       []byte
}

// Retirement is how long a retired key stays trusted. A key that leaked is rotated out;
// from then on it must mint nothing, and what it signed before must end with the tokens'
// lifetimes.
type Retirement struct {
	// Retention is how long after its retirement a key verifies at all: no token it signed
	// outlives it (the longest lifetime plus the leeway and a margin). Past it the key is
	// refused, whether or not the files that hold it change.
	Retention time.Duration
	// Lag is how long after its retirement the key may still have signed, because an
	// instance picks up a rotation up to one reload interval late. A token of the key
	// issued later than that plus the leeway is refused: it was made by someone holding
	// the old key, not by an instance.
	Lag time.Duration
}

// NewKeySet returns the set of current and previous. Keys must be distinct; they may use
// different algorithms, as when moving from HS256 to EdDSA. The previous keys have no
// retirement time, so they verify for as long as they are in the set; LoadKeySet builds
// the sets of a key ring, whose keys are bounded by their retirement.
func NewKeySet(current *Key, previous ...*Key) (*KeySet, error) {
	return newKeySet(current, previous, nil, Retirement{})
}

// newKeySet returns the set of current, the unbounded keys previous and the ring's keys,
// which verify within the limits of r.
func newKeySet(current *Key, previous []*Key, ring []RetiredKey, r Retirement) (*KeySet, error) {
	if current == nil {
		return nil, errors.New("key set: no current key")
	}
	ks := &KeySet{
		current: current, byID: make(map[string]*Key, 1+len(previous)+len(ring)),
		ring: slices.Clone(ring), retiredAt: make(map[string]time.Time, len(ring)),
		retirement: r, unbounded: slices.Clone(previous),
	}
	keys := append([]*Key{current}, previous...)
	for _, rk := range ring {
		keys = append(keys, rk.Key)
		if rk.Key != nil {
			ks.retiredAt[rk.Key.ID] = rk.RetiredAt
		}
	}
	if err := ks.add(keys); err != nil {
		return nil, err
	}
	return ks, nil
}

// add puts keys in the set, in order, and renders the JWKS of their public keys.
func (ks *KeySet) add(keys []*Key) error {
	entries := []*jwk{}
	for _, k := range keys {
		if k == nil || k.method == nil {
			return errors.New("key set: nil or unparsed key")
		}
		if _, dup := ks.byID[k.ID]; dup {
			return fmt.Errorf("key set: key %s appears twice", k.ID)
		}
		ks.byID[k.ID] = k
		if !slices.Contains(ks.algs, k.Algorithm) {
			ks.algs = append(ks.algs, k.Algorithm)
		}
		if k.jwk != nil {
			entries = append(entries, k.jwk)
		}
	}
	jwks, err := json.Marshal(struct {
		Keys []*jwk `json:"keys"`
	}{entries})
	if err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	ks.jwks = jwks
	return nil
}

// Current returns the key that signs new tokens.
func (ks *KeySet) Current() *Key { return ks.current }

// JWKS returns the JWK Set document of the public keys of the set, current first:
// {"keys":[{"kty":…,"kid":…,"alg":…,"use":"sig",…}]}. HMAC keys are secret and never
// listed, so a set of HMAC keys gives {"keys":[]}. The document is rendered once, when
// the set is made; each call returns a copy.
func (ks *KeySet) JWKS() []byte { return slices.Clone(ks.jwks) }

// Prune returns the set without the ring keys whose retention has passed at now, and the
// kids of those keys. Verification refuses them already; pruning takes them out of the
// JWKS and out of memory, without waiting for the files to change.
func (ks *KeySet) Prune(now time.Time) (*KeySet, []string) {
	kept := PruneRetired(ks.ring, now, ks.retirement.Retention)
	if len(kept) == len(ks.ring) {
		return ks, nil
	}
	pruned, err := newKeySet(ks.current, ks.unbounded, kept, ks.retirement)
	if err != nil {
		// A subset of a valid set is valid; keep the set, which refuses the keys anyway.
		return ks, nil
	}
	var dropped []string
	for _, rk := range ks.ring {
		if _, ok := pruned.byID[rk.Key.ID]; !ok {
			dropped = append(dropped, rk.Key.ID)
		}
	}
	return pruned, dropped
}

// key returns the key named kid.
func (ks *KeySet) key(kid string) (*Key, bool) {
	k, ok := ks.byID[kid]
	return k, ok
}

// checkRetired refuses a token of kid, issued at issuedAt, that its key's retirement rules
// out at now: the key's retention has passed, or the token was issued after the key
// stopped signing on every instance (plus leeway). iat counts to the second, as it is
// written, so a token is never refused for the milliseconds its jti adds.
func (ks *KeySet) checkRetired(kid string, issuedAt, now time.Time, leeway time.Duration) error {
	at, ok := ks.retiredAt[kid]
	if !ok {
		return nil
	}
	if now.Sub(at) > ks.retirement.Retention {
		return reason("key retired longer ago than its retention")
	}
	if issuedAt.Truncate(time.Second).After(at.Add(ks.retirement.Lag + leeway)) {
		return reason("issued after its key was retired")
	}
	return nil
}
