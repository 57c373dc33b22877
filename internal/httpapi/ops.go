package httpapi

import (
	"context"
	"net/http"
	"strconv"
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
		body := tokens.Keys().JWKS()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Cache-Control", "public, max-age=300")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}
