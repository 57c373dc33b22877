package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHostBadSettings: a bad --allowed-hosts or --public-url stops start-up with one line
// naming it, from the flag or its CIPHEMIC_* variable; a password in the URL is never
// repeated.
func TestHostBadSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"host URL", nil, []string{"--allowed-hosts", "https://api.example.com"}, "--allowed-hosts"},
		{"host wildcard", nil, []string{"--allowed-hosts", "*.example.com"}, "--allowed-hosts"},
		{"host port", nil, []string{"--allowed-hosts", "api.example.com:8000"}, "--allowed-hosts"},
		{"star among others", nil, []string{"--allowed-hosts", "*,api.example.com"}, "--allowed-hosts"},
		{"hosts env", map[string]string{"CIPHEMIC_ALLOWED_HOSTS": "a..b"}, nil, "--allowed-hosts"},
		{"URL relative", nil, []string{"--public-url", "api.example.com"}, "--public-url"},
		{"URL scheme", nil, []string{"--public-url", "ftp://api.example.com"}, "--public-url"},
		{"URL query", nil, []string{"--public-url", "https://api.example.com/?x=1"}, "--public-url"},
		{"URL fragment", nil, []string{"--public-url", "https://api.example.com/#x"}, "--public-url"},
		{"URL path", nil, []string{"--public-url", "https://api.example.com/a/../b"}, "--public-url"},
		{"URL env", map[string]string{"CIPHEMIC_PUBLIC_URL": "https://api.example.com:0x50"}, nil, "--public-url"},
	})
	_, _, err := runCmd(t, nil, "", "serve", "--database", db, "--addr", "127.0.0.1:0", "--public-url", "https://admin:s3cret@api.example.com")
	if err == nil || !strings.Contains(err.Error(), "--public-url") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("--public-url with a password: error %v, want one naming --public-url without the password", err)
	}
}

// TestAllowedHostsSettings: --allowed-hosts replaces the default, as Django's ALLOWED_HOSTS;
// unset, the default is localhost and loopback, plus the host --addr names (none for the
// unspecified address), the --public-url host and the TLS certificate's names.
func TestAllowedHostsSettings(t *testing.T) {
	loop := []string{".localhost", "127.0.0.1", "[::1]"}
	leaf := &x509.Certificate{DNSNames: []string{"api.example.com", "*.apps.example.com", "bad name"},
		IPAddresses: []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::7")}}
	certified := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{{0}}, Leaf: leaf}}}
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		tlsConfig *tls.Config
		want      []string
		public    string
	}{
		{"default", nil, nil, nil, loop, ""},
		{"every interface", nil, []string{"--addr", "0.0.0.0:8000"}, nil, loop, ""},
		{"port only", nil, []string{"--addr", ":8000"}, nil, loop, ""},
		{"every IPv6 interface", nil, []string{"--addr", "[::]:8000"}, nil, loop, ""},
		{"addr name", nil, []string{"--addr", "API.example.com:8000"}, nil, append(loop, "api.example.com"), ""},
		{"addr IPv4", nil, []string{"--addr", "192.0.2.10:8000"}, nil, append(loop, "192.0.2.10"), ""},
		{"addr IPv6", nil, []string{"--addr", "[2001:db8::10]:8000"}, nil, append(loop, "[2001:db8::10]"), ""},
		{"addr localhost", nil, []string{"--addr", "localhost:8000"}, nil, append(loop, "localhost"), ""},
		{"certificate", nil, []string{"--addr", "0.0.0.0:443"}, certified,
			append(loop, "api.example.com", ".apps.example.com", "192.0.2.7", "[2001:db8::7]"), ""},
		{"public URL", map[string]string{"CIPHEMIC_PUBLIC_URL": "https://Public.example.com:8443/school/"}, nil, nil,
			append(loop, "public.example.com"), "https://public.example.com:8443/school"},
		{"explicit", nil, []string{"--allowed-hosts", "API.example.com, .example.org", "--addr", "192.0.2.10:80"}, certified,
			[]string{"api.example.com", ".example.org"}, ""},
		{"explicit env", map[string]string{"CIPHEMIC_ALLOWED_HOSTS": "*"}, nil, nil, []string{"*"}, ""},
		{"flag wins", map[string]string{"CIPHEMIC_ALLOWED_HOSTS": "*"}, []string{"--allowed-hosts", "a.example"}, nil, []string{"a.example"}, ""},
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
			if got := s.hosts.allowed(s.addr, tt.tlsConfig); !slices.Equal(got, tt.want) || s.hosts.public != tt.public {
				t.Errorf("settings %q %v: allowed hosts %q, public URL %q; want %q, %q", tt.args, tt.env, got, s.hosts.public, tt.want, tt.public)
			}
		})
	}
}

// TestServeAllowedHosts: `serve` with TLS answers for its certificate's names and
// loopback, refuses other hosts with the contract's 400, and lets probes through.
func TestServeAllowedHosts(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t, "api.example.test", "*.apps.example.test")
	s := startServer(t, "", "--tls-cert-file", certFile, "--tls-key-file", keyFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	tests := []struct {
		host, path string
		status     int
	}{
		{"api.example.test", "/api/schema/", http.StatusOK},
		{"x.apps.example.test:443", "/api/schema/", http.StatusOK},
		{"localhost", "/api/schema/", http.StatusOK},
		{"evil.example", "/api/schema/", http.StatusBadRequest},
		{"evil.example", "/api/token/", http.StatusBadRequest},
		{"10.0.0.5", "/healthz", http.StatusOK},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, s.url+tt.path, nil)
		req.Host = tt.host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s with Host %s: %v", tt.path, tt.host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s with Host %s = %d, want %d", tt.path, tt.host, resp.StatusCode, tt.status)
		}
		if tt.status == http.StatusBadRequest && string(body) != `{"detail":"Invalid host header."}` {
			t.Errorf("GET %s with Host %s: body %.80s, want the contract's invalid host", tt.path, tt.host, body)
		}
	}
	if !strings.Contains(s.logText(), "invalid host header") {
		t.Errorf("log %q: want the refused host logged", s.logText())
	}
}

// TestServePublicURL: with --public-url the links of a list start with it, and its host
// is allowed by default.
func TestServePublicURL(t *testing.T) {
	s := startServer(t, "", "--public-url", "https://api.example.test/school/")
	login := `{"username":"admin","password":"` + s.adminPW + `"}`
	s.post(t, "/api/token/", login, "")
	_, tokens := s.post(t, "/api/token/", login, "")
	access, _ := tokens["access"].(string)
	req, _ := http.NewRequest(http.MethodGet, s.url+"/api/audit/?page_size=1", nil)
	req.Host = "api.example.test"
	req.Header.Set("Authorization", "Bearer "+access)
	status, page := doJSON(t, req)
	next, _ := page["next"].(string)
	if want := "https://api.example.test/school/api/audit/?page=2&page_size=1"; status != http.StatusOK || next != want {
		t.Errorf("GET /api/audit/ = %d, next %q; want 200, %q", status, next, want)
	}
}
