package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var opsListeningRE = regexp.MustCompile(`^Operations listening on (http://\S+)$`)

// opsURL is the operations listener's URL serve printed, or "" when it printed none.
func (s *server) opsURL() string {
	for _, line := range s.startup {
		if m := opsListeningRE.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

// getText GETs url and returns the status and body.
func getText(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// wantGet checks that GET base+path answers status (and, when given, has want in its body).
func wantGet(t *testing.T, name, base, path string, status int, want string) {
	t.Helper()
	got, body := getText(t, base+path)
	if got != status || !strings.Contains(body, want) {
		t.Errorf("%s GET %s = %d %.120q, want %d with %q", name, path, got, body, status, want)
	}
}

// TestServeAdminAddr: --admin-addr serves /metrics (with the store's pool statistics and
// the build), /healthz, /readyz and pprof, and nothing else; /metrics and pprof are not on
// the public listener, /healthz and /readyz are on both.
func TestServeAdminAddr(t *testing.T) {
	s := startServer(t, "", "--admin-addr", "127.0.0.1:0")
	ops := s.opsURL()
	if ops == "" {
		t.Fatalf("serve printed no operations address: %q", s.startup)
	}
	wantGet(t, "ops", ops, "/metrics", 200, `go_sql_open_connections{db_name="write"}`)
	wantGet(t, "ops", ops, "/metrics", 200, `ciphemic_build_info{goversion="go`)
	wantGet(t, "ops", ops, "/metrics", 200, `ciphemic_logins_total{outcome="success"}`)
	wantGet(t, "ops", ops, "/debug/pprof/", 200, "goroutine")
	wantGet(t, "ops", ops, "/debug/pprof/goroutine?debug=1", 200, "goroutine profile")
	wantGet(t, "ops", ops, "/healthz", 200, `"ok"`)
	wantGet(t, "ops", ops, "/readyz", 200, `"ready"`)
	wantGet(t, "ops", ops, "/api/me/", 404, `{"detail":"Not found."}`)
	wantGet(t, "ops", ops, "/.well-known/jwks.json", 404, `{"detail":"Not found."}`)

	wantGet(t, "public", s.url, "/metrics", 404, `{"detail":"Not found."}`)
	wantGet(t, "public", s.url, "/debug/pprof/", 404, `{"detail":"Not found."}`)
	wantGet(t, "public", s.url, "/healthz", 200, `"ok"`)
	wantGet(t, "public", s.url, "/readyz", 200, `"ready"`)

	// The events of the public listener are counted on the operations one.
	if status, _ := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, ""); status != 200 {
		t.Fatalf("login = %d, want 200", status)
	}
	wantGet(t, "ops", ops, "/metrics", 200, `ciphemic_logins_total{outcome="success"} 1`)
}

// TestServePublicMetrics: with --public-metrics /metrics is on both listeners; without
// --admin-addr it is only where --public-metrics puts it, and no operations listener
// starts.
func TestServePublicMetrics(t *testing.T) {
	s := startServer(t, "", "--admin-addr", "127.0.0.1:0", "--public-metrics")
	wantGet(t, "ops", s.opsURL(), "/metrics", 200, "ciphemic_build_info")
	wantGet(t, "public", s.url, "/metrics", 200, "ciphemic_build_info")
	wantGet(t, "public", s.url, "/debug/pprof/", 404, `{"detail":"Not found."}`)

	plain := startServer(t, "")
	if plain.opsURL() != "" {
		t.Errorf("serve without --admin-addr printed an operations address: %q", plain.startup)
	}
	wantGet(t, "public", plain.url, "/metrics", 404, `{"detail":"Not found."}`)
	withMetrics := startServer(t, "", "--public-metrics")
	wantGet(t, "public", withMetrics.url, "/metrics", 200, "ciphemic_build_info")
}

// TestAdminBadSettings: a malformed --admin-addr (or its variable), or the public address
// again, stops start-up with one line naming the flag.
func TestAdminBadSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"no port", nil, []string{"--admin-addr", "127.0.0.1"}, "--admin-addr"},
		{"garbage", nil, []string{"--admin-addr", "::::"}, "--admin-addr"},
		{"env", map[string]string{"CIPHEMIC_ADMIN_ADDR": "localhost"}, nil, "--admin-addr"},
		{"public bool", nil, []string{"--public-metrics=maybe"}, "--public-metrics"},
	})
	_, _, err := runCmd(t, nil, "", "serve", "--database", db, "--addr", "127.0.0.1:8123", "--admin-addr", "127.0.0.1:8123")
	if err == nil || !strings.Contains(err.Error(), "--admin-addr") {
		t.Errorf("--admin-addr equal to --addr: error %v, want one naming --admin-addr", err)
	}
}
