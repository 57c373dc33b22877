package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The benchmarks below compare a protected endpoint with a bare handler that writes the
// same bytes, in one run, so the ratio shows what authentication, routing, middleware and
// the store read cost. docs/PERFORMANCE.md has the figures and the command.

// benchGet runs b.N GETs with keep-alive against url.
func benchGet(b *testing.B, client *http.Client, url, bearer string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func BenchmarkHTTPMe(b *testing.B) {
	in := newInstance(b, options{})
	in.mustCreateUser(b, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(b, "testuser", "password")
	body := in.get(b, "/api/me/", access).body

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer bare.Close()

	b.Run("bare", func(b *testing.B) { benchGet(b, bare.Client(), bare.URL+"/api/me/", "") })
	b.Run("me", func(b *testing.B) { benchGet(b, in.srv.Client(), in.srv.URL+"/api/me/", access) })
	b.Run("healthz", func(b *testing.B) { benchGet(b, in.srv.Client(), in.srv.URL+"/healthz", "") })
}

// BenchmarkHandlerMe is the same comparison without the network: the handler chain called
// directly, which isolates ciphemic's own cost from loopback TCP.
func BenchmarkHandlerMe(b *testing.B) {
	in := newInstance(b, options{})
	in.mustCreateUser(b, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(b, "testuser", "password")
	body := in.get(b, "/api/me/", access).body
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	h := in.srv.Config.Handler
	run := func(b *testing.B, h http.Handler, path, bearer string) {
		req := httptest.NewRequest(http.MethodGet, in.srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, bare, "/api/me/", "") })
	b.Run("me", func(b *testing.B) { run(b, h, "/api/me/", access) })
	b.Run("healthz", func(b *testing.B) { run(b, h, "/healthz", "") })
}

// BenchmarkHandlerRefresh is one refresh chain in-process: each refresh presents the
// token the previous one returned, as a client does, so every iteration is a real
// rotation (one write transaction, two signatures, one audit event).
func BenchmarkHandlerRefresh(b *testing.B) {
	in := newInstance(b, options{})
	in.mustCreateUser(b, "testuser", "password", ciphemic.RoleStudent)
	_, refresh := in.login(b, "testuser", "password")
	h := in.srv.Config.Handler
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "http://localhost/api/token/refresh/",
			strings.NewReader(`{"refresh":"`+refresh+`"}`))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var pair struct{ Refresh string }
		if err := json.Unmarshal(w.Body.Bytes(), &pair); err != nil {
			b.Fatal(err)
		}
		refresh = pair.Refresh
	}
}

// BenchmarkAuthOverhead is goal 2 of docs/PERFORMANCE.md: authentication itself (header
// parse, signature or cache, claims, revocation check, principal) measured as a
// protected handler that writes fixed bytes against the same handler unprotected, in
// process and over loopback HTTP.
func BenchmarkAuthOverhead(b *testing.B) {
	in := newInstance(b, options{})
	in.mustCreateUser(b, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(b, "testuser", "password")
	body := []byte(`{"ok":true}`)
	fixed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	authn := authenticator{tokens: in.tokens, view: in.view, now: in.clock.Now, maxAge: 10 * time.Second}
	// Both go through the chain every request does, access log included, so that the
	// difference is authentication alone and the unprotected one is "a bare request".
	cfg := Config{Now: in.clock.Now, MaxBodyBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler), AccessLog: io.Discard, LogFormat: "json"}
	m := newMetrics(cfg, Deps{Revocations: in.view})
	protected := withMiddleware(cfg, m, authn.require(fixed))
	unprotected := withMiddleware(cfg, m, fixed)
	inProcess := func(b *testing.B, h http.Handler) {
		req := httptest.NewRequest(http.MethodGet, "http://localhost/x", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("in-process/unprotected", func(b *testing.B) { inProcess(b, unprotected) })
	b.Run("in-process/protected", func(b *testing.B) { inProcess(b, protected) })
	for name, h := range map[string]http.Handler{"unprotected": unprotected, "protected": protected} {
		srv := httptest.NewServer(h)
		b.Run("loopback/"+name, func(b *testing.B) { benchGet(b, srv.Client(), srv.URL+"/x", access) })
		srv.Close()
	}
}
