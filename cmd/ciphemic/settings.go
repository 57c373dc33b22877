package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ciphemic/ciphemic/internal/token"
)

// storeSettings are the settings of every command that opens the store.
type storeSettings struct {
	database string
}

func (s *storeSettings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.database, "database", "sqlite:ciphemic.db", "store: sqlite:PATH or postgres://…")
}

// kind returns "sqlite" or "postgres" and the path or URL, or a one-line error.
func (s *storeSettings) kind() (kind, target string, err error) {
	switch {
	case strings.HasPrefix(s.database, "postgres://"), strings.HasPrefix(s.database, "postgresql://"):
		return "postgres", s.database, nil
	case strings.HasPrefix(s.database, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(s.database, "sqlite:"), "//")
		if path == "" || path == ":memory:" {
			return "", "", invalid("database", "sqlite needs a file path, e.g. sqlite:ciphemic.db")
		}
		return "sqlite", path, nil
	}
	return "", "", invalid("database", "want sqlite:PATH or postgres://…")
}

// tokenSettings are the settings of signing and verifying tokens (simplejwt's SIMPLE_JWT).
type tokenSettings struct {
	algorithm              string
	signingKeyFile         string
	accessLifetime         time.Duration
	refreshLifetime        time.Duration
	rotateRefreshTokens    bool
	blacklistAfterRotation bool
	issuer, audience       string
	leeway                 time.Duration
	refreshReuseGrace      time.Duration
}

func (s *tokenSettings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.algorithm, "algorithm", "HS256", "signing algorithm: HS256, HS384, HS512, RS256, ES256 or EdDSA")
	fs.StringVar(&s.signingKeyFile, "signing-key-file", "", "signing key: HMAC raw secret (≥ 32 bytes) or PKCS#8 PEM private key; unset: generated beside the SQLite file. Previous keys (keys rotate) are read from FILE.previous")
	fs.DurationVar(&s.accessLifetime, "access-token-lifetime", 5*time.Minute, "access token lifetime")
	fs.DurationVar(&s.refreshLifetime, "refresh-token-lifetime", 24*time.Hour, "refresh token lifetime")
	fs.BoolVar(&s.rotateRefreshTokens, "rotate-refresh-tokens", true, "issue a new refresh token on every refresh")
	fs.BoolVar(&s.blacklistAfterRotation, "blacklist-after-rotation", true, "blacklist the refresh token a rotation replaced")
	fs.StringVar(&s.issuer, "issuer", "", "iss claim to issue and require (empty: none)")
	fs.StringVar(&s.audience, "audience", "", "aud claim to issue and require (empty: none)")
	fs.DurationVar(&s.leeway, "leeway", 0, "clock skew tolerated when checking exp and iat")
	fs.DurationVar(&s.refreshReuseGrace, "refresh-reuse-grace", 0, "how long after a rotation the rotated refresh token still gets the same successor (concurrent tabs) instead of revoking its family as reuse")
}

func (s *tokenSettings) validate() error {
	switch {
	case !token.ValidAlgorithm(s.algorithm):
		return invalid("algorithm", "%q is not one of HS256, HS384, HS512, RS256, ES256, EdDSA", s.algorithm)
	case s.accessLifetime <= 0:
		return invalid("access-token-lifetime", "must be positive")
	case s.refreshLifetime <= 0:
		return invalid("refresh-token-lifetime", "must be positive")
	case s.leeway < 0:
		return invalid("leeway", "must not be negative")
	case s.leeway > s.accessLifetime:
		return invalid("leeway", "must not exceed --access-token-lifetime")
	case s.refreshReuseGrace < 0:
		return invalid("refresh-reuse-grace", "must not be negative")
	case s.refreshReuseGrace > s.accessLifetime:
		// A window meant for a race of milliseconds or seconds; a long one only lengthens
		// the time a replayed stolen token goes undetected.
		return invalid("refresh-reuse-grace", "must not exceed --access-token-lifetime")
	}
	return nil
}

// keyFileFor is where a generated key lives when --signing-key-file is unset: beside the
// SQLite file, one file per algorithm so a change of algorithm never misreads a key.
func keyFileFor(sqlitePath, algorithm string) string {
	return fmt.Sprintf("%s.%s.key", sqlitePath, strings.ToLower(algorithm))
}
