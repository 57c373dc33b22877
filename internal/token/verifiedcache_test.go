package token

import (
	"errors"
	"testing"
	"time"
)

// cachedService returns a service with a verified cache of size n whose clock is the
// returned variable.
func cachedService(t *testing.T, n int, leeway time.Duration, keys ...*Key) (*Service, *time.Time) {
	t.Helper()
	clock := t0
	cfg := testConfig()
	cfg.Now, cfg.Leeway, cfg.VerifiedCacheSize = func() time.Time { return clock }, leeway, n
	return mustService(t, cfg, keys[0], keys[1:]...), &clock
}

func cacheLen(s *Service) int {
	return s.state.Load().cache.len()
}

func TestVerifiedCacheHit(t *testing.T) {
	s, _ := cachedService(t, 10, 0, mustKey(t, "EdDSA", 0))
	raw, want := mustIssueAccess(t, s, t0)
	first, err := s.Parse(raw, TypeAccess)
	if err != nil || cacheLen(s) != 1 {
		t.Fatalf("Parse = %v with %d cached, want ok and 1 cached", err, cacheLen(s))
	}
	second, err := s.Parse(raw, TypeAccess)
	if err != nil || second.JTI != want.JTI || second.UserID != first.UserID || !second.ExpiresAt.Equal(first.ExpiresAt) {
		t.Errorf("Parse from the cache = %+v, %v; want %+v", second, err, first)
	}
	if _, err := s.Parse(raw, TypeRefresh); !errors.Is(err, ErrWrongType) {
		t.Errorf("Parse(cached access token, want refresh) = %v, want ErrWrongType", err)
	}
	refresh, _ := mustIssueRefresh(t, s, t0)
	if _, err := s.Parse(refresh, TypeRefresh); err != nil || cacheLen(s) != 1 {
		t.Errorf("Parse(refresh) = %v with %d cached; want ok, and refresh tokens (used once) not cached", err, cacheLen(s))
	}
}

// TestParseCached: ParseCached answers only for texts Parse verified, and then as Parse
// does; anything else it leaves to Parse.
func TestParseCached(t *testing.T) {
	s, clock := cachedService(t, 10, 0, mustKey(t, "HS256", 0))
	raw, want := mustIssueAccess(t, s, t0)
	if _, ok, err := s.ParseCached(raw, TypeAccess); ok || err != nil {
		t.Fatalf("ParseCached(never parsed) = ok %v, %v; want not ok", ok, err)
	}
	if _, err := s.Parse(raw, TypeAccess); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.ParseCached(raw, TypeAccess); !ok || err != nil || c.JTI != want.JTI {
		t.Errorf("ParseCached(parsed) = %+v, ok %v, %v; want its claims", c, ok, err)
	}
	if _, ok, err := s.ParseCached(raw, TypeRefresh); !ok || !errors.Is(err, ErrWrongType) {
		t.Errorf("ParseCached(access, want refresh) = ok %v, %v; want ErrWrongType", ok, err)
	}
	for _, other := range []string{raw + " ", " " + raw, raw[:len(raw)-1], ""} {
		if _, ok, _ := s.ParseCached(other, TypeAccess); ok {
			t.Errorf("ParseCached(%q) answered for a text never parsed", other)
		}
	}
	if _, ok, _ := s.ParseCached(raw, "other"); ok {
		t.Error("ParseCached(want an unknown type) answered; Parse refuses it")
	}
	*clock = want.ExpiresAt
	if _, ok, _ := s.ParseCached(raw, TypeAccess); ok {
		t.Error("ParseCached(expired) answered from the cache")
	}
}

// TestVerifiedCacheExactText: once a token is cached, any other text — a changed
// signature, payload or header byte, trailing bytes — is verified from scratch and refused.
func TestVerifiedCacheExactText(t *testing.T) {
	s, _ := cachedService(t, 10, 0, mustKey(t, "HS256", 0))
	raw, _ := mustIssueAccess(t, s, t0)
	if _, err := s.Parse(raw, TypeAccess); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(raw)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, other := range map[string]string{
		"signature byte": flip(len(raw) - 2), "payload byte": flip(len(raw) / 2), "header byte": flip(3),
		"trailing dot": raw + ".", "prefix": raw[:len(raw)-1],
	} {
		if _, err := s.Parse(other, TypeAccess); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(cached token with a changed %s) = %v, want ErrInvalid", name, err)
		}
	}
}

// TestVerifiedCacheEndsWithExp: around exp, with and without leeway, a cached token is
// accepted exactly when a fresh parse accepts it.
func TestVerifiedCacheEndsWithExp(t *testing.T) {
	key := mustKey(t, "HS256", 0)
	for _, leeway := range []time.Duration{0, 30 * time.Second} {
		cached, clock := cachedService(t, 10, leeway, key)
		raw, c := mustIssueAccess(t, cached, t0)
		if _, err := cached.Parse(raw, TypeAccess); err != nil {
			t.Fatal(err)
		}
		for _, d := range []time.Duration{-time.Second, -time.Nanosecond, 0, time.Nanosecond, time.Second} {
			*clock = c.ExpiresAt.Add(leeway + d)
			uncached, uclock := cachedService(t, -1, leeway, key)
			*uclock = *clock
			_, want := uncached.Parse(raw, TypeAccess)
			if _, got := cached.Parse(raw, TypeAccess); (got == nil) != (want == nil) {
				t.Errorf("leeway %v, exp%+v: cached Parse = %v, uncached = %v; want the same verdict", leeway, leeway+d, got, want)
			}
		}
	}
}

// TestVerifiedCacheNewKeys: new keys start an empty cache, so a token of a key that left
// the set is refused even though it was cached.
func TestVerifiedCacheNewKeys(t *testing.T) {
	old, next := mustKey(t, "HS256", 0), mustKey(t, "HS256", 1)
	s, _ := cachedService(t, 10, 0, old)
	raw, _ := mustIssueAccess(t, s, t0)
	if _, err := s.Parse(raw, TypeAccess); err != nil {
		t.Fatal(err)
	}
	s.SetKeys(mustKeySet(t, next))
	if cacheLen(s) != 0 {
		t.Errorf("cache after SetKeys holds %d, want 0", cacheLen(s))
	}
	if _, err := s.Parse(raw, TypeAccess); !errors.Is(err, ErrInvalid) {
		t.Errorf("Parse(cached token of a key no longer in the set) = %v, want ErrInvalid", err)
	}
}

func TestVerifiedCacheBounded(t *testing.T) {
	s, _ := cachedService(t, 3, 0, mustKey(t, "HS256", 0))
	for i := range 10 {
		raw, _ := mustIssueAccess(t, s, t0.Add(-time.Duration(i)*time.Second))
		if _, err := s.Parse(raw, TypeAccess); err != nil {
			t.Fatal(err)
		}
		if n := cacheLen(s); n > 3 {
			t.Fatalf("cache holds %d after %d tokens, want at most its bound 3", n, i+1)
		}
	}
	if off, _ := cachedService(t, -1, 0, mustKey(t, "HS256", 0)); off.state.Load().cache != nil {
		t.Error("VerifiedCacheSize -1 made a cache, want none")
	}
}
