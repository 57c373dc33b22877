package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// opsPair is one server's API and operations handlers, each on its own test server.
type opsPair struct {
	in       *instance // whose store, tokens, view and hasher the pair shares
	api, ops *httptest.Server
}

func newOpsPair(t *testing.T, privateMetrics bool) opsPair {
	t.Helper()
	in := newInstance(t, options{})
	h := New(Config{RotateRefreshTokens: true, LoginThrottle: LoginThrottle{Disabled: true},
		PrivateMetrics: privateMetrics, Now: in.clock.Now, Logger: slog.New(slog.DiscardHandler)},
		Deps{Store: in.db, School: in.db, Tokens: in.tokens, Revocations: in.view, Passwords: in.hasher})
	p := opsPair{in: in, api: httptest.NewServer(checkContract(t, h.API)), ops: httptest.NewServer(h.Ops)}
	t.Cleanup(p.api.Close)
	t.Cleanup(p.ops.Close)
	return p
}

// fetch sends method path to srv and returns the status and body.
func fetch(t testing.TB, srv *httptest.Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestOpsHandler: the operations handler serves /metrics, /healthz, /readyz and pprof and
// nothing else (the contract's 404 elsewhere); with PrivateMetrics /metrics leaves the
// API, which never serves pprof; both count the same events.
func TestOpsHandler(t *testing.T) {
	p := newOpsPair(t, true)
	for _, path := range []string{"/metrics", "/healthz", "/healthz/", "/readyz", "/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
		if status, body := fetch(t, p.ops, "GET", path); status != 200 {
			t.Errorf("ops GET %s = %d %.200s, want 200", path, status, body)
		}
	}
	for _, path := range []string{"/api/me/", "/api/token/", "/api/schema/", "/", "/metricsx"} {
		if status, body := fetch(t, p.ops, "GET", path); status != 404 || body != `{"detail":"Not found."}` {
			t.Errorf("ops GET %s = %d %s, want 404 {\"detail\":\"Not found.\"}", path, status, body)
		}
	}
	if status, body := fetch(t, p.ops, "POST", "/metrics"); status != 405 {
		t.Errorf("ops POST /metrics = %d %s, want 405", status, body)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
		if status, body := fetch(t, p.api, "GET", path); status != 404 || body != `{"detail":"Not found."}` {
			t.Errorf("API GET %s = %d %s, want the contract's 404", path, status, body)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := fetch(t, p.api, "GET", path); status != 200 {
			t.Errorf("API GET %s = %d %s, want 200 (load balancers probe it)", path, status, body)
		}
	}

	// One registry: a login on the API shows on the operations listener.
	p.in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	scrapeOps := func(t testing.TB, path, _ string) response {
		status, body := fetch(t, p.ops, "GET", path)
		return response{status: status, body: []byte(body)}
	}
	before := loginsSuccess.of(mustScrape(t, scrapeOps))
	resp, err := p.api.Client().Post(p.api.URL+"/api/token/", "application/json",
		strings.NewReader(`{"username":"alice","password":"password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login on the API = %d, want 200", resp.StatusCode)
	}
	after := mustScrape(t, scrapeOps)
	if got := loginsSuccess.of(after) - before; got != 1 {
		t.Errorf("%s moved by %v on the operations listener after a login on the API, want 1", loginsSuccess, got)
	}
	if got := after.value("ciphemic_http_requests_total", "route=/api/token/", "code=200"); got != 1 {
		t.Errorf("ciphemic_http_requests_total{route=/api/token/,code=200} on ops = %v, want 1", got)
	}
}

// TestOpsHandlerPublicMetrics: without PrivateMetrics /metrics is on both.
func TestOpsHandlerPublicMetrics(t *testing.T) {
	p := newOpsPair(t, false)
	for name, srv := range map[string]*httptest.Server{"API": p.api, "ops": p.ops} {
		if status, body := fetch(t, srv, "GET", "/metrics"); status != 200 || !strings.Contains(body, "ciphemic_build_info") {
			t.Errorf("%s GET /metrics = %d %.100s, want 200 with ciphemic_build_info", name, status, body)
		}
	}
}
