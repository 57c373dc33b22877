// Package httpapi is the HTTP face of ciphemic: the routes of API.md, their handlers, the
// middleware chain and the one mapping from errors to the contract's bodies. It consumes
// the store through the small interfaces below and never touches SQL.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/token"
)

// Config holds the behaviour switches of the API.
type Config struct {
	// RotateRefreshTokens and BlacklistAfterRotation are simplejwt's settings of those names.
	RotateRefreshTokens    bool
	BlacklistAfterRotation bool
	// MaxBodyBytes bounds every request body (413 beyond).
	MaxBodyBytes int64
	// HSTS adds Strict-Transport-Security; set it when serving TLS.
	HSTS bool
	// RevocationMaxAge is how stale the revocation view may be before protected routes
	// answer 503: past it a revoked token could pass unnoticed, so the server fails closed.
	// Zero disables the check.
	RevocationMaxAge time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For/-Proto/-Host headers are believed
	// (ParseTrustedProxies); empty means none, the safe default.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the access log and internal errors; nil means slog.Default().
	Logger *slog.Logger
}

// userStore is what the auth and account handlers need of users.
type userStore interface {
	User(ctx context.Context, id int64) (ciphemic.User, error)
	UserByUsername(ctx context.Context, username string) (ciphemic.User, error)
	RecordLogin(ctx context.Context, userID int64, at time.Time, newHash string) error
	ChangePassword(ctx context.Context, userID int64, hash string, validAfter, until time.Time) error
}

// refreshTokenStore keeps the server-side record of refresh tokens.
type refreshTokenStore interface {
	CreateRefreshToken(ctx context.Context, t ciphemic.RefreshToken) error
	UseRefreshToken(ctx context.Context, jti string, now time.Time) (ciphemic.User, error)
	RotateRefreshToken(ctx context.Context, oldJTI string, next ciphemic.RefreshToken, blacklistOld bool, now time.Time) (ciphemic.User, error)
	BlacklistRefreshToken(ctx context.Context, jti string, now time.Time) error
}

// revocationStore records revocations for every instance's revocation view.
type revocationStore interface {
	RevokeAccessToken(ctx context.Context, jti string, userID int64, expiresAt time.Time) error
	RevokeUser(ctx context.Context, userID int64, validAfter, until time.Time) error
}

// Store is everything the API needs of the database.
type Store interface {
	userStore
	refreshTokenStore
	revocationStore
	Ping(ctx context.Context) error
}

// Deps are the collaborators of the server, passed explicitly.
type Deps struct {
	Store       Store
	Tokens      *token.Service
	Revocations *token.RevocationView
	Passwords   *password.Hasher
}

// NewServer returns the whole API as one handler:
// recover → request id + access log → security headers → body limit → routes.
func NewServer(cfg Config, deps Deps) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	mux := http.NewServeMux()
	addRoutes(mux, cfg, deps)
	var h http.Handler = mux
	h = withBodyLimit(cfg.MaxBodyBytes, h)
	h = withSecurityHeaders(cfg.HSTS, h)
	h = withRecover(h)
	h = withRequestLog(cfg.Logger, h)
	return h
}
