package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestReadyzDraining: once the server's shutdown flag is set, /readyz answers the
// contract's 503 at once (the store still answers), while other routes keep serving the
// requests that are still arriving.
func TestReadyzDraining(t *testing.T) {
	in := newInstance(t, options{})
	h := NewServer(Config{Logger: slog.New(slog.DiscardHandler)},
		Deps{Store: in.db, School: in.db, Tokens: in.tokens, Revocations: in.view, Passwords: in.hasher})
	var draining atomic.Bool
	get := func(path string) response {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req = req.WithContext(WithDraining(req.Context(), &draining))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return response{status: rec.Code, body: rec.Body.Bytes()}
	}
	wantStatusBody(t, get("/readyz"), 200, `{"status":"ready"}`)
	draining.Store(true)
	wantStatusBody(t, get("/readyz"), 503, `{"detail":"Service temporarily unavailable, try again later."}`)
	wantStatusBody(t, get("/readyz/"), 503, `{"detail":"Service temporarily unavailable, try again later."}`)
	wantStatusBody(t, get("/healthz"), 200, `{"status":"ok"}`)
}
