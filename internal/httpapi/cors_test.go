package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestParseCORSOrigins(t *testing.T) {
	good := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"https://app.example.com", []string{"https://app.example.com"}},
		{"https://App.Example.COM, http://localhost:3000", []string{"https://app.example.com", "http://localhost:3000"}},
		{"HTTPS://a.example:443,http://b.example:80,https://a.example", []string{"https://a.example", "http://b.example"}},
		{"http://127.0.0.1:8080,http://[::1]:3000", []string{"http://127.0.0.1:8080", "http://[::1]:3000"}},
		{"*", []string{"*"}},
		{" * ", []string{"*"}},
	}
	for _, tc := range good {
		got, err := ParseCORSOrigins(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseCORSOrigins(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []string{
		"https://app.example.com/", "https://app.example.com/path", "https://app.example.com?x=1",
		"https://app.example.com#f", "https://app.example.com?", "app.example.com", "//app.example.com",
		"ftp://app.example.com", "https://", "https://user@app.example.com", "https://*.example.com",
		"https://app.example.com:0", "https://app.example.com:99999", "https://app.example.com:x",
		"*,https://app.example.com", "https://app.example.com,*", "null", "https://a.example,,https://b.example",
		"https://a b.example", "http://[fe80::1%25eth0]",
	}
	for _, in := range bad {
		if got, err := ParseCORSOrigins(in); err == nil {
			t.Errorf("ParseCORSOrigins(%q) = %q, want an error", in, got)
		}
	}
}

const corsOrigin = "https://app.example.com"

func newCORSInstance(t *testing.T, origins ...string) *instance {
	t.Helper()
	return newInstance(t, options{cfg: &Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, CORSAllowedOrigins: origins}})
}

func preflight(t *testing.T, in *instance, path, origin string) response {
	t.Helper()
	return in.do(t, http.MethodOptions, path, "", nil,
		"Origin: "+origin, "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization")
}

// TestCORSPreflight: a preflight from an allowed origin is answered 204 before
// authentication, on a protected path too; one from another origin gets no CORS header.
func TestCORSPreflight(t *testing.T) {
	in := newCORSInstance(t, corsOrigin, "http://localhost:3000")
	for _, path := range []string{"/api/me/", "/api/token/", "/api/token"} {
		r := preflight(t, in, path, corsOrigin)
		want := map[string]string{
			"Access-Control-Allow-Origin":  corsOrigin,
			"Access-Control-Allow-Methods": corsAllowMethods,
			"Access-Control-Allow-Headers": "Authorization, Content-Type",
			"Access-Control-Max-Age":       corsMaxAge,
		}
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Errorf("preflight %s = %d %s, want 204 without a body", path, r.status, r.body)
		}
		for name, value := range want {
			if got := r.header.Get(name); got != value {
				t.Errorf("preflight %s: %s = %q, want %q", path, name, got, value)
			}
		}
		if !slices.Contains(r.header.Values("Vary"), "Origin") {
			t.Errorf("preflight %s: Vary = %q, want Origin", path, r.header.Values("Vary"))
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s sent Access-Control-Allow-Credentials", path)
		}
	}
	for _, origin := range []string{"https://evil.example", "https://app.example.com.evil.example", "http://app.example.com", "null"} {
		r := preflight(t, in, "/api/me/", origin)
		mustHaveNoCORS(t, "preflight from "+origin, r)
	}
}

// TestCORSActualRequests: responses to an allowed origin, errors included, carry the
// origin and the exposed headers; responses to any other origin carry none.
func TestCORSActualRequests(t *testing.T) {
	in := newCORSInstance(t, corsOrigin)
	r := in.do(t, http.MethodGet, "/api/me/", "", nil, "Origin: "+corsOrigin)
	wantStatusBody(t, r, http.StatusUnauthorized, bodyNotProvided)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != corsOrigin {
		t.Errorf("401 to an allowed origin: Access-Control-Allow-Origin = %q, want %q", got, corsOrigin)
	}
	expose := r.header.Get("Access-Control-Expose-Headers")
	if !strings.Contains(expose, "Retry-After") || !strings.Contains(expose, "X-Request-Id") {
		t.Errorf("Access-Control-Expose-Headers = %q, want Retry-After and X-Request-Id", expose)
	}
	if !slices.Contains(r.header.Values("Vary"), "Origin") {
		t.Errorf("Vary = %q, want Origin", r.header.Values("Vary"))
	}
	if r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Error("an actual request got preflight headers")
	}
	r = in.do(t, http.MethodGet, "/healthz", "", nil, "Origin: https://evil.example")
	if r.status != http.StatusOK {
		t.Errorf("GET /healthz from another origin = %d, want 200 (CORS is the browser's to enforce)", r.status)
	}
	mustHaveNoCORS(t, "GET from another origin", r)
	// A plain OPTIONS (no Access-Control-Request-Method) is not a preflight.
	r = in.do(t, http.MethodOptions, "/api/token/", "", nil, "Origin: "+corsOrigin)
	if r.status != http.StatusNoContent || r.header.Get("Allow") == "" || r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("plain OPTIONS = %d, Allow %q; want the router's 204 with Allow", r.status, r.header.Get("Allow"))
	}
}

func TestCORSOffByDefault(t *testing.T) {
	in := newCORSInstance(t)
	r := preflight(t, in, "/api/token/", corsOrigin)
	mustHaveNoCORS(t, "preflight without an allow-list", r)
	if len(r.header.Values("Vary")) != 0 {
		t.Errorf("Vary = %q without an allow-list, want none", r.header.Values("Vary"))
	}
	mustHaveNoCORS(t, "GET without an allow-list", in.do(t, http.MethodGet, "/healthz", "", nil, "Origin: "+corsOrigin))
}

// TestCORSAnyOrigin: "*" answers every origin with "*", never with credentials.
func TestCORSAnyOrigin(t *testing.T) {
	in := newCORSInstance(t, "*")
	for _, r := range []response{
		preflight(t, in, "/api/me/", "https://anything.example"),
		in.do(t, http.MethodGet, "/api/me/", "", nil, "Origin: https://anything.example"),
	} {
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error(`"*" went with Access-Control-Allow-Credentials`)
		}
	}
}

func mustHaveNoCORS(t *testing.T, what string, r response) {
	t.Helper()
	for name := range r.header {
		if strings.HasPrefix(name, "Access-Control-") {
			t.Errorf("%s: got %s: %q, want no CORS header", what, name, r.header.Get(name))
		}
	}
}
