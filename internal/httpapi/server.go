// Package httpapi is the HTTP face of ciphemic: the routes of API.md, their handlers, the
// middleware chain and the one mapping from errors to the contract's bodies. It consumes
// the store through the small interfaces below and never touches SQL.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/token"
)

// Config holds the behaviour switches of the API.
type Config struct {
	// RotateRefreshTokens and BlacklistAfterRotation are simplejwt's settings of those names.
	RotateRefreshTokens    bool
	BlacklistAfterRotation bool
	// RefreshReuseGrace is how long after a rotation the rotated refresh token may come
	// back and get the same successor again (two tabs refreshing at once) instead of being
	// taken for a stolen token, whose family is revoked (reuse.go). Zero: every reuse
	// revokes the family.
	RefreshReuseGrace time.Duration
	// MaxBodyBytes bounds every request body (413 beyond).
	MaxBodyBytes int64
	// HSTS adds Strict-Transport-Security; set it when serving TLS.
	HSTS bool
	// RevocationMaxAge is how stale the revocation view may be before protected routes
	// answer 503: past it a revoked token could pass unnoticed, so the server fails closed.
	// Zero disables the check.
	RevocationMaxAge time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For/-Proto/-Host and X-Request-Id headers are believed
	// (ParseTrustedProxies); empty means none, the safe default.
	TrustedProxies []netip.Prefix
	// AllowedHosts are the hosts the API answers for, as Django's ALLOWED_HOSTS
	// (ParseAllowedHosts): a request whose Host, or a trusted proxy's X-Forwarded-Host,
	// is not among them gets 400 "Invalid host header." (hosts.go). Empty means
	// DefaultAllowedHosts, localhost and loopback only.
	AllowedHosts []string
	// PublicURL is the base URL clients use, as ParsePublicURL returns it; when set, links
	// and the API's own origin come from it alone, never from the request. Empty: from
	// the (checked) host the request addressed.
	PublicURL string
	// LoginThrottle limits failed logins per username and per client address
	// (throttle.go); the zero value is on, with DefaultLoginThrottle's limits.
	LoginThrottle LoginThrottle
	// CORSAllowedOrigins are the origins whose browser pages may call the API
	// (ParseCORSOrigins); empty means no CORS headers at all, the default.
	CORSAllowedOrigins []string
	// RefreshCookie is the optional browser mode of refresh tokens: an HttpOnly cookie
	// instead of the body, with CSRF protection (cookies.go); the zero value is off.
	RefreshCookie RefreshCookie
	// PrivateMetrics takes GET /metrics off the API: it is then served by Handlers.Ops
	// alone, on a listener the public cannot reach.
	PrivateMetrics bool
	// SessionIdleTimeout ends a session not refreshed for that long, and
	// SessionMaxLifetime one that long after its login however often it was refreshed
	// (mysessions.go); zero leaves each unbounded but for the refresh tokens' own expiry.
	SessionIdleTimeout time.Duration
	SessionMaxLifetime time.Duration
	// PasswordPolicy is Django's default password validators, applied wherever a password
	// is set (users.go, me.go); the zero value is Django's defaults.
	PasswordPolicy ciphemic.PasswordPolicy
	// Build names the running binary in the ciphemic_build_info series.
	Build BuildInfo
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors and audit events, and the access log unless
	// AccessLog is set; nil means slog.Default().
	Logger *slog.Logger
	// AccessLog, when set, receives the access log directly, one line per request in
	// LogFormat ("json" or "text"), exactly as Logger's handler of that format would
	// write it but composed by hand (accesslog.go). Give it the writer under Logger.
	AccessLog io.Writer
	LogFormat string
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
	RotateRefreshTokenAudited(ctx context.Context, oldJTI string, next ciphemic.RefreshToken, blacklistOld bool, now time.Time, e ciphemic.AuditEvent) (ciphemic.User, error)
	RotateSessionRefreshToken(ctx context.Context, oldJTI string, next ciphemic.RefreshToken, blacklistOld bool, now time.Time, e ciphemic.AuditEvent, touch ciphemic.Session) (ciphemic.User, error)
	BlacklistRefreshToken(ctx context.Context, jti string, now time.Time) error
	RefreshToken(ctx context.Context, jti string) (ciphemic.RefreshToken, error)
	LiveRefreshToken(ctx context.Context, jti string, now time.Time) (ciphemic.RefreshToken, ciphemic.User, error)
}

// revocationStore records revocations for every instance's revocation view.
type revocationStore interface {
	RevokeAccessToken(ctx context.Context, jti string, userID int64, expiresAt time.Time) error
	RevokeUser(ctx context.Context, userID int64, validAfter, until time.Time) error
	RevokeFamily(ctx context.Context, familyID string, userID int64, at, until time.Time) error
}

// Store is everything the API needs of the database.
type Store interface {
	userStore
	refreshTokenStore
	revocationStore
	sessionStore
	loginFailureStore
	auditRecorder
	auditStore
	cutoverStore
	Ping(ctx context.Context) error
}

// SchoolStore is what the school resources and the user administration need of the
// database (courses.go, enrollments.go, users.go).
type SchoolStore interface {
	courseStore
	enrollmentStore
	userAdminStore
}

// Deps are the collaborators of the server, passed explicitly.
type Deps struct {
	Store       Store
	School      SchoolStore
	Tokens      *token.Service
	Revocations *token.RevocationView
	Passwords   *password.Hasher
	// Metrics are further series for /metrics, such as the store's pool statistics; they
	// are registered on the server's own registry.
	Metrics []prometheus.Collector
}

// NewServer returns the whole API as one handler: request id + access log → recover →
// security headers → host check → CORS → body limit → routes. The host check comes
// before CORS, so a refused host gets no CORS grant either.
func NewServer(cfg Config, deps Deps) http.Handler {
	return New(cfg, deps).API
}

// Handlers are the two faces of one server, sharing its metrics.
type Handlers struct {
	// API is what NewServer returns.
	API http.Handler
	// Ops serves the operations listener: /metrics, /healthz, /readyz and pprof (ops.go).
	Ops http.Handler
}

// New returns the API and the operations handler of one server.
func New(cfg Config, deps Deps) Handlers {
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
	m := newMetrics(cfg, deps)
	addRoutes(mux, cfg, deps, m)
	return Handlers{API: withMiddleware(cfg, m, mux), Ops: newOpsHandler(cfg, deps, m)}
}

// withMiddleware wraps h in the chain every request goes through (NewServer).
func withMiddleware(cfg Config, m *metrics, h http.Handler) http.Handler {
	h = withBodyLimit(cfg.MaxBodyBytes, h)
	h = withCORS(cfg.CORSAllowedOrigins, h)
	h = withCookieCORS(cfg.RefreshCookie, h)
	h = withAllowedHosts(newAllowedHosts(cfg.AllowedHosts), trustedProxies(cfg.TrustedProxies), h)
	h = withSecurityHeaders(cfg.HSTS, h)
	h = withRecover(h)
	var access *accessLog
	if cfg.AccessLog != nil {
		access = newAccessLog(cfg.AccessLog, cfg.LogFormat)
	}
	h = withRequestLog(cfg.Logger, access, m, trustedProxies(cfg.TrustedProxies), h)
	return h
}
