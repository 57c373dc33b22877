package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// KeySet is the immutable set of keys in force. Current signs new tokens; every key of the
// set verifies, so that rotating keeps previous keys until the tokens they signed expire.
type KeySet struct {
	current *Key
	byID    map[string]*Key
	algs    []string // the distinct algorithms of the keys, the only ones a token may use
	jwks    []byte
}

// NewKeySet returns the set of current and previous. Keys must be distinct; they may use
// different algorithms, as when moving from HS256 to EdDSA.
func NewKeySet(current *Key, previous ...*Key) (*KeySet, error) {
	if current == nil {
		return nil, errors.New("key set: no current key")
	}
	ks := &KeySet{current: current, byID: make(map[string]*Key, 1+len(previous))}
	entries := []*jwk{}
	for _, k := range append([]*Key{current}, previous...) {
		if k == nil || k.method == nil {
			return nil, errors.New("key set: nil or unparsed key")
		}
		if _, dup := ks.byID[k.ID]; dup {
			return nil, fmt.Errorf("key set: key %s appears twice", k.ID)
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
		return nil, fmt.Errorf("key set: %w", err)
	}
	ks.jwks = jwks
	return ks, nil
}

// Current returns the key that signs new tokens.
func (ks *KeySet) Current() *Key { return ks.current }

// JWKS returns the JWK Set document of the public keys of the set, current first:
// {"keys":[{"kty":…,"kid":…,"alg":…,"use":"sig",…}]}. HMAC keys are secret and never
// listed, so a set of HMAC keys gives {"keys":[]}. The document is rendered once, in
// NewKeySet; each call returns a copy.
func (ks *KeySet) JWKS() []byte { return slices.Clone(ks.jwks) }

// key returns the key named kid.
func (ks *KeySet) key(kid string) (*Key, bool) {
	k, ok := ks.byID[kid]
	return k, ok
}
