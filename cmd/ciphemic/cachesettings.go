package main

import (
	"flag"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/token"
)

// cacheSettings bound what serve keeps in memory per instance.
type cacheSettings struct {
	userCache      int
	tokenCache     int
	revocationView int
}

func (s *cacheSettings) register(fs *flag.FlagSet) {
	fs.IntVar(&s.userCache, "user-cache-size", store.DefaultUserCacheSize, "users kept in memory for authenticated requests (0: none); a change reaches every instance's cache within a revocation sync")
	fs.IntVar(&s.tokenCache, "token-cache-size", token.DefaultVerifiedCacheSize, "verified access tokens kept in memory so a repeated token is not verified again (0: none); revocation is still checked on every request")
	fs.IntVar(&s.revocationView, "revocation-view-max", token.DefaultRevocationViewMax, "revoked tokens, sessions and users the in-memory revocation view holds at most; past it protected routes answer 503 until it fits again")
}

func (s *cacheSettings) validate() error {
	switch {
	case s.userCache < 0:
		return invalid("user-cache-size", "%d is negative (0 turns the cache off)", s.userCache)
	case s.tokenCache < 0:
		return invalid("token-cache-size", "%d is negative (0 turns the cache off)", s.tokenCache)
	case s.revocationView < 1:
		return invalid("revocation-view-max", "must be at least 1")
	}
	return nil
}

// tokenCacheSize is token.Config's VerifiedCacheSize for the setting: there 0 means the
// default and a negative value none.
func (s *cacheSettings) tokenCacheSize() int {
	if s.tokenCache == 0 {
		return -1
	}
	return s.tokenCache
}
