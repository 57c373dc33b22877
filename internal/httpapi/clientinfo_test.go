package httpapi

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	tp, err := parseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer, xff, proto, host string
		tls                          bool
		wantIP, wantBase             string
	}{
		{"direct client ignores headers", "203.0.113.9:5000", "1.2.3.4", "https", "evil.example", false, "203.0.113.9", "http://api.local"},
		{"direct TLS", "203.0.113.9:5000", "", "", "", true, "203.0.113.9", "https://api.local"},
		{"trusted proxy", "10.1.2.3:5000", "198.51.100.7", "https", "api.example.com", false, "198.51.100.7", "https://api.example.com"},
		{"spoofed left entries skipped", "10.1.2.3:5000", "1.1.1.1, 198.51.100.7, 10.9.9.9", "", "", false, "198.51.100.7", "http://api.local"},
		{"single trusted address", "192.0.2.1:80", "198.51.100.8", "", "", false, "198.51.100.8", "http://api.local"},
		{"garbage xff", "10.1.2.3:5000", "not-an-ip", "", "", false, "10.1.2.3", "http://api.local"},
		{"bad proto and host", "10.1.2.3:5000", "", "javascript", "a/b", false, "10.1.2.3", "http://api.local"},
		{"ipv6 peer", "[2001:db8::1]:5000", "1.2.3.4", "", "", false, "2001:db8::1", "http://api.local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = "api.local"
			r.RemoteAddr = tt.peer
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range map[string]string{"X-Forwarded-For": tt.xff, "X-Forwarded-Proto": tt.proto, "X-Forwarded-Host": tt.host} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			if got := tp.clientIP(r).String(); got != tt.wantIP {
				t.Errorf("clientIP = %s, want %s", got, tt.wantIP)
			}
			if got := tp.baseURL(r); got != tt.wantBase {
				t.Errorf("baseURL = %s, want %s", got, tt.wantBase)
			}
		})
	}
	if _, err := parseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("parseTrustedProxies(10.0.0.0/33) = nil error, want one")
	}
}
