package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mustLeaf returns a certificate for api.example.com, *.apps.example.com, 127.0.0.1 and ::1.
func mustLeaf(t *testing.T) *x509.Certificate {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "api.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames:    []string{"api.example.com", "*.apps.example.com"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestRedirectHandler(t *testing.T) {
	leaf := mustLeaf(t)
	tests := []struct {
		method, target, host, port string
		want                       string // Location, or "" for a 400
	}{
		{"GET", "/api/token/?a=1&b=%20x", "api.example.com", "8443", "https://api.example.com:8443/api/token/?a=1&b=%20x"},
		{"POST", "/api/token/", "API.Example.COM:80", "8443", "https://api.example.com:8443/api/token/"},
		{"GET", "/", "api.example.com", "443", "https://api.example.com/"},
		{"GET", "/a%2Fb/c", "api.example.com", "443", "https://api.example.com/a%2Fb/c"},
		{"GET", "//evil.example/x", "api.example.com", "443", "https://api.example.com//evil.example/x"},
		{"GET", "/x", "tenant.apps.example.com", "443", "https://tenant.apps.example.com/x"},
		{"GET", "/x", "127.0.0.1:8080", "8443", "https://127.0.0.1:8443/x"},
		{"GET", "/x", "[::1]:8080", "8443", "https://[::1]:8443/x"},
		{"GET", "/x", "[::1]", "443", "https://[::1]/x"},
		{"GET", "/x", "evil.example", "443", ""},
		{"GET", "/x", "example.com", "443", ""},
		{"GET", "/x", "a.b.apps.example.com", "443", ""},
		{"GET", "/x", "", "443", ""},
		{"GET", "/x", "api.example.com.", "443", ""},
		{"GET", "/x", "api.example.com@evil.example", "443", ""},
		{"GET", "/x", "api..example.com", "443", ""},
		{"GET", "/x", "10.0.0.1", "443", ""},
		{"GET", "/x", "[fe80::1%25eth0]", "443", ""},
		{"OPTIONS", "*", "api.example.com", "443", ""},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(tc.method, "http://placeholder"+strings.TrimPrefix(tc.target, "*"), nil)
		if tc.target == "*" {
			req.URL.Path, req.RequestURI = "*", "*"
		}
		req.Host = tc.host
		rec := httptest.NewRecorder()
		redirectHandler(tc.port, leaf).ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if tc.want == "" {
			if rec.Code != http.StatusBadRequest || loc != "" || !strings.HasPrefix(rec.Body.String(), `{"detail":`) {
				t.Errorf("%s %s Host %q = %d %q, want 400 with a JSON detail", tc.method, tc.target, tc.host, rec.Code, loc)
			}
			continue
		}
		if rec.Code != http.StatusPermanentRedirect || loc != tc.want {
			t.Errorf("%s %s Host %q = %d %q, want 308 %q", tc.method, tc.target, tc.host, rec.Code, loc, tc.want)
		}
		if rec.Header().Get("Strict-Transport-Security") != "" {
			t.Errorf("the plain-HTTP redirect sent Strict-Transport-Security")
		}
	}
}

var redirectingRE = regexp.MustCompile(`^Redirecting http://(\S+) to HTTPS$`)

// TestServeHTTPRedirect: with --http-redirect-addr the server also listens for plain
// HTTP, answers every request there with 308 to the HTTPS URL and serves nothing else;
// HSTS goes only with TLS responses.
func TestServeHTTPRedirect(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	s := startServer(t, "", "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--http-redirect-addr", "127.0.0.1:0")
	var plainAddr string
	for _, line := range s.startup {
		if m := redirectingRE.FindStringSubmatch(line); m != nil {
			plainAddr = m[1]
		}
	}
	if plainAddr == "" {
		t.Fatalf("serve printed no redirect address: %q", s.startup)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/api/me/?x=1", "/healthz", "/api/token/"} {
		resp, err := noFollow.Get("http://" + plainAddr + path)
		if err != nil {
			t.Fatalf("GET %s over plain HTTP: %v", path, err)
		}
		resp.Body.Close()
		if want := s.url + path; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			t.Errorf("GET http://…%s = %d %q, want 308 %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("plain-HTTP response carried Strict-Transport-Security")
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+plainAddr+"/healthz", nil)
	req.Host = "evil.example"
	if resp, err := noFollow.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("redirect with a forged Host = %v, %v; want 400", resp, err)
	} else {
		resp.Body.Close()
	}
	follow := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := follow.Get("http://" + plainAddr + "/healthz")
	if err != nil {
		t.Fatalf("following the redirect: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Scheme != "https" || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("after the redirect: %d over %s, HSTS %q; want 200 over https with HSTS", resp.StatusCode, resp.Request.URL.Scheme, resp.Header.Get("Strict-Transport-Security"))
	}
}

// TestEdgeSettings: bad CORS, redirect and reload settings stop start-up with one line
// naming the setting.
func TestEdgeSettings(t *testing.T) {
	db := "sqlite:" + t.TempDir() + "/x.db"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"origin with path", []string{"--cors-allowed-origins", "https://app.example.com/"}, "--cors-allowed-origins"},
		{"origin without scheme", []string{"--cors-allowed-origins", "app.example.com"}, "--cors-allowed-origins"},
		{"star among others", []string{"--cors-allowed-origins", "*,https://app.example.com"}, "--cors-allowed-origins"},
		{"redirect without TLS", []string{"--http-redirect-addr", "127.0.0.1:0"}, "--http-redirect-addr"},
		{"negative reload interval", []string{"--key-reload-interval", "-1s"}, "--key-reload-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runCmd(t, nil, "", append([]string{"serve", "--database", db, "--addr", "127.0.0.1:0"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("serve %v = %v, want one line naming %s", tt.args, err, tt.want)
			}
			if strings.Contains(stdout, "Listening") {
				t.Error("serve listened despite a bad setting")
			}
		})
	}
	certFile, keyFile, _ := writeSelfSigned(t)
	_, _, err := runCmd(t, nil, "", "serve", "--database", db, "--addr", "127.0.0.1:8443",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--http-redirect-addr", "127.0.0.1:8443")
	if err == nil || !strings.Contains(err.Error(), "--http-redirect-addr") {
		t.Errorf("redirect on the TLS address = %v, want an error naming --http-redirect-addr", err)
	}
}
