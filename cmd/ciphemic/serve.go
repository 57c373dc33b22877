package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	caches       cacheSettings
	hosts        hostSettings
	admin        adminSettings
	shutdown     shutdownSettings
	sessions     sessionSettings
	passwords    passwordSettings
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
	// initialAdminPasswordFile receives the first admin's password (admin.go).
	initialAdminPasswordFile string
}

func (s *serveSettings) flags() *flag.FlagSet {
	fs := newFlagSet("serve")
	s.store.register(fs)
	s.tokens.register(fs)
	s.throttle.register(fs)
	s.audit.register(fs)
	s.housekeeping.register(fs)
	s.cookie.register(fs)
	s.caches.register(fs)
	s.hosts.register(fs)
	s.admin.register(fs)
	s.shutdown.register(fs)
	s.sessions.register(fs)
	s.passwords.register(fs)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&s.tlsCertFile, "tls-cert-file", "", "serve HTTPS with this PEM certificate (chain)")
	fs.StringVar(&s.tlsKeyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.StringVar(&s.logFormat, "log-format", "text", "log format: text or json")
	fs.Int64Var(&s.maxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted (413 beyond)")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs/addresses of reverse proxies whose X-Forwarded-* headers are believed")
	fs.StringVar(&s.corsOrigins, "cors-allowed-origins", "", "comma-separated origins (https://app.example.com) whose browser pages may call the API, or * alone; empty: no CORS headers")
	fs.StringVar(&s.httpRedirectAddr, "http-redirect-addr", "", "with TLS, also listen here for plain HTTP and answer 308 to the HTTPS URL (nothing else is served)")
	fs.DurationVar(&s.keyReloadInterval, "key-reload-interval", 5*time.Second, "how often to check --signing-key-file and its .previous ring for a rotation (0: only on SIGHUP); a token of a retired key issued later than its retirement plus this and --leeway is refused")
	fs.StringVar(&s.initialAdminPasswordFile, "initial-admin-password-file", "", "on an empty store, write the password of the admin created then to this new file (mode 0600); unset: shown on a terminal, else written beside the SQLite file as DATABASE.admin-password")
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
	if err := s.caches.validate(); err != nil {
		return err
	}
	if err := s.shutdown.validate(); err != nil {
		return err
	}
	if err := s.sessions.validate(s.tokens.refreshLifetime); err != nil {
		return err
	}
	if err := s.passwords.validate(); err != nil {
		return err
	}
	if kind, path, err := s.store.kind(); err != nil {
		return err
	} else if kind == "sqlite" {
		if err := sqliteDirExists(path); err != nil {
			return err
		}
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
	if err := s.admin.validate(s.addr); err != nil {
		return err
	}
	proxies, err := httpapi.ParseTrustedProxies(s.trustedProxies)
	if err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	s.proxies = proxies
	if err := s.hosts.validate(); err != nil {
		return err
	}
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

// runServe is `ciphemic serve`. The log exists from the start, so that with --log-format
// json every line serve writes to standard error is JSON, start-up and its failure included.
func runServe(ctx context.Context, args []string, e env) error {
	var s serveSettings
	if err := parseFlags(s.flags(), args, e); err != nil {
		return err
	}
	logOut := newLogWriter(e.stderr)
	defer logOut.Close()
	log := newLogger(s.logFormat, logOut)
	err := serve(ctx, &s, log, logOut, e)
	if err != nil && s.logFormat == "json" {
		log.Error("ciphemic: " + err.Error())
		return loggedError{err}
	}
	return err
}

// loggedError is an error serve has already written to its log; main only sets the exit
// status for it.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

func serve(ctx context.Context, s *serveSettings, log *slog.Logger, logOut *logWriter, e env) error {
	if err := s.validate(); err != nil {
		return err
	}
	retirement := keyRetirement(s.tokens, s.keyReloadInterval)
	keys, keyFile, err := loadSigningKeys(s.tokens, s.store, retirement, log)
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if s.tlsCertFile != "" {
		if tlsConfig, err = loadTLS(s.tlsCertFile, s.tlsKeyFile); err != nil {
			return err
		}
	}
	db, err := openStore(ctx, s.store, store.WithUserCache(s.caches.userCache))
	if err != nil {
		return err
	}
	defer db.Close()
	hasher := password.NewHasher(password.DefaultParams)
	if err := ensureAdmin(ctx, db, hasher, *s, log, e); err != nil {
		return err
	}
	// The hasher's dummy hash (and the admin's) left tens of MiB of argon2 memory behind:
	// hand it back now rather than carry it as resident memory while serving.
	debug.FreeOSMemory()
	tokens, err := token.NewService(keys, token.Config{
		AccessLifetime: s.tokens.accessLifetime, RefreshLifetime: s.tokens.refreshLifetime,
		Issuer: s.tokens.issuer, Audience: s.tokens.audience, Leeway: s.tokens.leeway,
		VerifiedCacheSize: s.caches.tokenCacheSize(),
	})
	if err != nil {
		return invalid("signing-key-file", "%v", err)
	}
	view := token.NewRevocationView(time.Now)
	view.SetMax(s.caches.revocationView)
	if err := view.Sync(ctx, db); err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	go view.Run(ctx, db, revocationSyncInterval, log)
	go runAuditPruner(ctx, db, s.audit.retention, auditPruneInterval, time.Now, log)
	startHousekeeper(ctx, db, s.housekeeping, log)
	warnAlgorithm(log, keys, s.tokens.algorithm)
	s.cookie.warn(log)
	allowedHosts := s.hosts.allowed(s.addr, tlsConfig)
	log.Info("allowed hosts", "hosts", strings.Join(allowedHosts, ","), "public_url", s.hosts.public)
	startKeyReload(ctx, newKeyReloader(keyFile, s.tokens.algorithm, retirement, tokens, log), s.keyReloadInterval)

	handlers := httpapi.New(httpapi.Config{
		RotateRefreshTokens:    s.tokens.rotateRefreshTokens,
		BlacklistAfterRotation: s.tokens.blacklistAfterRotation,
		RefreshReuseGrace:      s.tokens.refreshReuseGrace,
		MaxBodyBytes:           s.maxBodyBytes,
		HSTS:                   tlsConfig != nil,
		RevocationMaxAge:       revocationMaxAge,
		TrustedProxies:         s.proxies,
		AllowedHosts:           allowedHosts,
		PublicURL:              s.hosts.public,
		LoginThrottle:          s.throttle.config(),
		CORSAllowedOrigins:     s.cors,
		RefreshCookie:          s.cookie.config(),
		Logger:                 log,
		AccessLog:              logOut,
		LogFormat:              s.logFormat,
		PrivateMetrics:         !s.admin.publicMetrics,
		Build:                  buildInfo(),
		SessionIdleTimeout:     s.sessions.idle(s.tokens.refreshLifetime),
		SessionMaxLifetime:     s.sessions.maxLifetime,
		PasswordPolicy:         s.passwords.policy(),
	}, httpapi.Deps{Store: db, School: db, Tokens: tokens, Revocations: view, Passwords: hasher,
		Metrics: []prometheus.Collector{newDBStatsCollector(db.Stats)}})
	// One flag for both listeners: their /readyz turn 503 together when a drain starts.
	draining := new(atomic.Bool)
	if s.admin.addr != "" {
		stopOps, err := startOps(s.admin.addr, handlers.Ops, draining, log, e)
		if err != nil {
			return err
		}
		defer stopOps()
		if s.admin.exposed() {
			log.Warn("--admin-addr is not a loopback address: /metrics and /debug/pprof/ are served there without authentication", "admin_addr", s.admin.addr)
		}
	}
	return listenAndServe(ctx, s.addr, s.httpRedirectAddr, tlsConfig, s.shutdown, draining, handlers.API, log, e)
}

// listenAndServe serves until ctx is cancelled (SIGINT/SIGTERM), then drains as stop says.
// With redirectAddr it also runs the HTTP→HTTPS redirect.
func listenAndServe(ctx context.Context, addr, redirectAddr string, tlsConfig *tls.Config, stop shutdownSettings, draining *atomic.Bool, h http.Handler, log *slog.Logger, e env) error {
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return httpapi.WithDraining(context.Background(), draining) },
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
	ln = coalescedWriteDeadlines(ln, writeDeadlineSlack)
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
	if err := stop.drain(srv, draining, log); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
