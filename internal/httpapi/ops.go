package httpapi

import (
	"context"
	"net/http"
	"net/http/pprof" // #nosec G108 -- its init registers on http.DefaultServeMux, which no listener serves; newOpsHandler mounts it on the operations listener only
	"sync/atomic"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

type statusBody struct {
	Status string `json:"status"`
}

// handleHealthz serves GET /healthz: the process is alive.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, http.StatusOK, statusBody{"ok"})
	})
}

type drainingKey struct{}

// WithDraining returns ctx carrying the server's shutdown flag: once draining is set,
// GET /readyz of every request under ctx answers 503, so that a load balancer stops sending
// new requests while the ones in flight finish. serve gives it to its http.Server as the
// base context; the flag travels in the context because only /readyz ever looks at it, so
// no other route pays for it.
func WithDraining(ctx context.Context, draining *atomic.Bool) context.Context {
	return context.WithValue(ctx, drainingKey{}, draining)
}

func isDraining(ctx context.Context) bool {
	d, _ := ctx.Value(drainingKey{}).(*atomic.Bool)
	return d != nil && d.Load()
}

// handleReadyz serves GET /readyz: the server is not shutting down, the store answers and
// the revocation view is fresh, so a load balancer stops sending traffic to an instance
// that cannot do its job or is about to stop.
func handleReadyz(st Store, authn authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isDraining(r.Context()) {
			writeError(w, r, ciphemic.Errorf(ciphemic.CodeUnavailable, "shutting down"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			loggerFrom(r.Context()).Warn("readiness: store unreachable", "error", err.Error())
			writeError(w, r, ciphemic.Errorf(ciphemic.CodeUnavailable, "store unreachable"))
			return
		}
		if authn.maxAge > 0 && authn.now().Sub(authn.view.LastSync()) > authn.maxAge {
			writeError(w, r, ciphemic.Errorf(ciphemic.CodeUnavailable, "revocation view stale"))
			return
		}
		encode(w, r, http.StatusOK, statusBody{"ready"})
	})
}

// handleJWKS serves GET /.well-known/jwks.json, the public keys by kid. Verifiers may cache
// it briefly; a rotated-in key is published before it signs.
func handleJWKS(tokens *token.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, r, http.StatusOK, tokens.Keys().JWKS())
	})
}

// newAuthenticator is the authentication of cfg's protected routes, which /readyz also
// checks the revocation view's freshness with.
func newAuthenticator(cfg Config, deps Deps) authenticator {
	a := authenticator{tokens: deps.Tokens, view: deps.Revocations, now: cfg.Now, maxAge: cfg.RevocationMaxAge}
	if deps.Store != nil {
		a.django = deps.Store
	}
	return a
}

// newOpsHandler is Handlers.Ops: GET /metrics, /healthz, /readyz and net/http/pprof's
// handlers, registered here explicitly (never on http.DefaultServeMux), and the JSON 404
// for anything else. It has no host check, CORS or access log: it is for the operator's
// scrapers and probes on a private address, which poll it every few seconds.
func newOpsHandler(cfg Config, deps Deps, m *metrics) http.Handler {
	mux := http.NewServeMux()
	rt := newRouter(mux)
	rt.handle("GET", "/metrics", nil, handleMetrics(m))
	rt.handle("GET", "/healthz", nil, handleHealthz())
	rt.handle("GET", "/readyz", nil, handleReadyz(deps.Store, newAuthenticator(cfg, deps)))
	// Index also serves the named profiles (/debug/pprof/heap, goroutine, …).
	// Any method, as net/http/pprof registers them itself (go tool pprof POSTs to symbol).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	rt.finish()
	return withRecover(mux)
}
