package httpapi

import (
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestMetrics: /metrics counts requests by route pattern, never by raw path, so probes of
// random URLs cannot blow up the series count; it carries no user data.
func TestMetrics(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(t, "testuser", "password")
	in.get(t, "/api/me", access)
	in.get(t, "/no/such/path-1234", "")
	in.get(t, "/api/token/", "")
	r := in.get(t, "/metrics", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s, want 200 text/plain", r.status, r.header.Get("Content-Type"))
	}
	body := string(r.body)
	for _, want := range []string{
		`ciphemic_http_requests_total{code="200",method="GET",route="/api/me/"} 1`,
		`ciphemic_http_requests_total{code="200",method="POST",route="/api/token/"} 1`,
		`ciphemic_http_requests_total{code="405",method="GET",route="/api/token/"} 1`,
		`ciphemic_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`ciphemic_http_request_duration_seconds_bucket{method="GET",route="/api/me/",le="0.0005"}`,
		"ciphemic_revocation_view_age_seconds",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, leak := range []string{"path-1234", "testuser", access} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
}
