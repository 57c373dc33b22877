package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// TestRefreshCookieBadSettings: the cookie mode refuses to start without HTTPS unless the
// development flag says so, with CORS "*", or with a bad cookie name or path; each with
// one line naming the setting.
func TestRefreshCookieBadSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"no TLS", nil, []string{"--refresh-cookie"}, "--refresh-cookie:"},
		{"no TLS, env", map[string]string{"CIPHEMIC_REFRESH_COOKIE": "true"}, nil, "--refresh-cookie:"},
		{"CORS star", nil, []string{"--refresh-cookie", "--refresh-cookie-insecure-dev", "--cors-allowed-origins", "*"}, "--refresh-cookie:"},
		{"name with space", nil, []string{"--refresh-cookie-name", "a b"}, "--refresh-cookie-name"},
		{"empty name", nil, []string{"--refresh-cookie-name", ""}, "--refresh-cookie-name"},
		{"CSRF cookie's name", nil, []string{"--refresh-cookie-name", httpapi.CSRFCookieName}, "--refresh-cookie-name"},
		{"__Host- below /", nil, []string{"--refresh-cookie-name", "__Host-rt"}, "--refresh-cookie-name"},
		{"relative path", nil, []string{"--refresh-cookie-path", "api/token/"}, "--refresh-cookie-path"},
		{"path with ;", nil, []string{"--refresh-cookie-path", "/api;x"}, "--refresh-cookie-path"},
	})
}

// TestRefreshCookieSettings: the mode is off by default; on, it starts with TLS, behind a
// trusted (TLS-terminating) proxy, or with the development flag.
func TestRefreshCookieSettings(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     httpapi.RefreshCookie
		overHTTP bool
	}{
		{"default", nil, nil, httpapi.RefreshCookie{Name: "ciphemic_refresh", Path: "/api/token/"}, false},
		{"TLS", nil, []string{"--refresh-cookie", "--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"},
			httpapi.RefreshCookie{Enabled: true, Name: "ciphemic_refresh", Path: "/api/token/"}, false},
		{"proxy", map[string]string{"CIPHEMIC_REFRESH_COOKIE": "1", "CIPHEMIC_REFRESH_COOKIE_NAME": "__Secure-rt"},
			[]string{"--trusted-proxies", "10.0.0.0/8", "--refresh-cookie-path", "/auth/"},
			httpapi.RefreshCookie{Enabled: true, Name: "__Secure-rt", Path: "/auth/"}, false},
		{"dev", nil, []string{"--refresh-cookie", "--refresh-cookie-insecure-dev"},
			httpapi.RefreshCookie{Enabled: true, Name: "ciphemic_refresh", Path: "/api/token/"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s serveSettings
			if err := parseFlags(s.flags(), tt.args, env{getenv: func(k string) string { return tt.env[k] }}); err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if err := s.validate(); err != nil {
				t.Fatalf("validate() with %q %v = %v, want nil", tt.args, tt.env, err)
			}
			if got := s.cookie.config(); got != tt.want || s.cookie.overHTTP != tt.overHTTP {
				t.Errorf("settings %q %v = %+v (over HTTP %v), want %+v (%v)", tt.args, tt.env, got, s.cookie.overHTTP, tt.want, tt.overHTTP)
			}
		})
	}
}

// TestRefreshCookieServe: `serve --refresh-cookie --refresh-cookie-insecure-dev` warns,
// answers a login with the refresh token in a cookie only, and refreshes from it.
func TestRefreshCookieServe(t *testing.T) {
	s := startServer(t, "", "--refresh-cookie", "--refresh-cookie-insecure-dev")
	resp := mustPost(t, s.url+"/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`)
	var refresh, csrf *http.Cookie
	for _, c := range resp.Cookies() {
		switch c.Name {
		case "ciphemic_refresh":
			refresh = c
		case httpapi.CSRFCookieName:
			csrf = c
		}
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "refresh") || refresh == nil || csrf == nil {
		t.Fatalf("login = %d %s, cookies %q; want the refresh token in a cookie only", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/token/refresh/", nil)
	req.AddCookie(refresh)
	req.AddCookie(csrf)
	req.Header.Set("X-CSRF-Token", csrf.Value)
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusOK || len(again.Cookies()) == 0 {
		t.Errorf("refresh with the cookie = %d, cookies %q; want 200 and the successor", again.StatusCode, again.Header.Values("Set-Cookie"))
	}
	if !strings.Contains(s.logText(), "refresh cookies served without HTTPS") {
		t.Errorf("log %q: want a warning that the cookie mode runs over HTTP", s.logText())
	}
}

// mustPost posts a JSON body and returns the response, whose body the test closes.
func mustPost(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
