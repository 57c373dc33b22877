package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/httpapi"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/token"
)

// serveSettings are the settings of `ciphemic serve`.
type serveSettings struct {
	store        storeSettings
	tokens       tokenSettings
	throttle     throttleSettings
	audit        auditSettings
	housekeeping housekeepingSettings
	cookie       cookieSettings
	addr         string
	tlsCertFile  string
	tlsKeyFile   string
	logFormat    string
	maxBodyBytes int64
	// trustedProxies is validated into proxies.
	trustedProxies string
	proxies        []netip.Prefix
	// corsOrigins is validated into cors.
	corsOrigins       string
	cors              []string
	httpRedirectAddr  string
	keyReloadInterval time.Duration
}

func (s *serveSettings) flags() *flag.FlagSet {
	fs := newFlagSet("serve")
	s.store.register(fs)
	s.tokens.register(fs)
	s.throttle.register(fs)
	s.audit.register(fs)
	s.housekeeping.register(fs)
	s.cookie.register(fs)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&s.tlsCertFile, "tls-cert-file", "", "serve HTTPS with this PEM certificate (chain)")
	fs.StringVar(&s.tlsKeyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.StringVar(&s.logFormat, "log-format", "text", "log format: text or json")
	fs.Int64Var(&s.maxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted (413 beyond)")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs/addresses of reverse proxies whose X-Forwarded-* headers are believed")
	fs.StringVar(&s.corsOrigins, "cors-allowed-origins", "", "comma-separated origins (https://app.example.com) whose browser pages may call the API, or * alone; empty: no CORS headers")
	fs.StringVar(&s.httpRedirectAddr, "http-redirect-addr", "", "with TLS, also listen here for plain HTTP and answer 308 to the HTTPS URL (nothing else is served)")
	fs.DurationVar(&s.keyReloadInterval, "key-reload-interval", 5*time.Second, "how often to check --signing-key-file and its .previous ring for a rotation (0: only on SIGHUP)")
	return fs
}

func (s *serveSettings) validate() error {
	if err := s.tokens.validate(); err != nil {
		return err
	}
	if err := s.throttle.validate(); err != nil {
		return err
	}
	if err := s.audit.validate(); err != nil {
		return err
	}
	if _, _, err := s.store.kind(); err != nil {
		return err
	}
	switch {
	case s.logFormat != "text" && s.logFormat != "json":
		return invalid("log-format", "%q is not text or json", s.logFormat)
	case (s.tlsCertFile == "") != (s.tlsKeyFile == ""):
		return invalid("tls-cert-file", "--tls-cert-file and --tls-key-file go together")
	case s.maxBodyBytes < 1024:
		return invalid("max-body-bytes", "must be at least 1024")
	}
	if _, _, err := net.SplitHostPort(s.addr); err != nil {
		return invalid("addr", "%v", err)
	}
	proxies, err := httpapi.ParseTrustedProxies(s.trustedProxies)
	if err != nil {
		return invalid("trusted-proxies", "%v", err)
	}
	s.proxies = proxies
	if err := s.validateEdge(); err != nil {
		return err
	}
	return s.cookie.validate(s.tlsCertFile != "" || len(s.proxies) > 0, s.cors)
}

// revocationSyncInterval keeps every instance's revocation view within a second of the
// store, which is the revocation bound the API promises.
const revocationSyncInterval = 500 * time.Millisecond

// revocationMaxAge is how stale the view may get (store unreachable) before protected
// routes fail closed with 503.
const revocationMaxAge = 10 * time.Second

func runServe(ctx context.Context, args []string, e env) error {
	var s serveSettings
	if err := parseFlags(s.flags(), args, e); err != nil {
		return err
	}
	if err := s.validate(); err != nil {
		return err
	}
	keys, keyFile, err := loadSigningKeys(s.tokens, s.store, e)
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if s.tlsCertFile != "" {
		if tlsConfig, err = loadTLS(s.tlsCertFile, s.tlsKeyFile); err != nil {
			return err
		}
	}
	log := newLogger(s.logFormat, e)
	db, err := openStore(ctx, s.store)
	if err != nil {
		return err
	}
	defer db.Close()
	hasher := password.NewHasher(password.DefaultParams)
	if err := ensureAdmin(ctx, db, hasher, e); err != nil {
		return err
	}
	tokens, err := token.NewService(keys, token.Config{
		AccessLifetime: s.tokens.accessLifetime, RefreshLifetime: s.tokens.refreshLifetime,
		Issuer: s.tokens.issuer, Audience: s.tokens.audience, Leeway: s.tokens.leeway,
	})
	if err != nil {
		return invalid("signing-key-file", "%v", err)
	}
	view := token.NewRevocationView(time.Now)
	if err := view.Sync(ctx, db); err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	go view.Run(ctx, db, revocationSyncInterval, log)
	go runAuditPruner(ctx, db, s.audit.retention, auditPruneInterval, time.Now, log)
	startHousekeeper(ctx, db, s.housekeeping, log)
	warnAlgorithm(log, keys, s.tokens.algorithm)
	s.cookie.warn(log)
	startKeyReload(ctx, newKeyReloader(keyFile, s.tokens.algorithm, keyRetention(s.tokens), tokens, log), s.keyReloadInterval)

	handler := httpapi.NewServer(httpapi.Config{
		RotateRefreshTokens:    s.tokens.rotateRefreshTokens,
		BlacklistAfterRotation: s.tokens.blacklistAfterRotation,
		RefreshReuseGrace:      s.tokens.refreshReuseGrace,
		MaxBodyBytes:           s.maxBodyBytes,
		HSTS:                   tlsConfig != nil,
		RevocationMaxAge:       revocationMaxAge,
		TrustedProxies:         s.proxies,
		LoginThrottle:          s.throttle.config(),
		CORSAllowedOrigins:     s.cors,
		RefreshCookie:          s.cookie.config(),
		Logger:                 log,
	}, httpapi.Deps{Store: db, School: db, Tokens: tokens, Revocations: view, Passwords: hasher})
	return listenAndServe(ctx, s.addr, s.httpRedirectAddr, tlsConfig, handler, log, e)
}

// listenAndServe serves until ctx is cancelled (SIGINT/SIGTERM), then drains in-flight
// requests for up to 15 seconds. With redirectAddr it also runs the HTTP→HTTPS redirect.
func listenAndServe(ctx context.Context, addr, redirectAddr string, tlsConfig *tls.Config, h http.Handler, log *slog.Logger, e env) error {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConfig)
	}
	if redirectAddr != "" {
		stopRedirect, err := startRedirect(redirectAddr, ln.Addr(), tlsConfig, log, e)
		if err != nil {
			_ = ln.Close() // the redirect listener's error is the one to report
			return err
		}
		defer stopRedirect()
	}
	fmt.Fprintf(e.stdout, "Listening on %s://%s\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ensureAdmin creates user admin with a random password on an empty store, and prints the
// password once, on standard output, never in a log.
func ensureAdmin(ctx context.Context, db *store.DB, hasher *password.Hasher, e env) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := rand.Text()
	hash, err := hasher.Hash(pw)
	if err != nil {
		return err
	}
	_, err = db.CreateUser(ctx, ciphemic.User{Username: "admin", PasswordHash: hash, Role: ciphemic.RoleAdmin, IsActive: true})
	if ciphemic.ErrorCode(err) == ciphemic.CodeConflict {
		return nil // another instance created it first
	}
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	fmt.Fprintf(e.stdout, "Created user admin with password %s (shown once; change it with POST /api/me/password/)\n", pw)
	return nil
}

func newLogger(format string, e env) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}
