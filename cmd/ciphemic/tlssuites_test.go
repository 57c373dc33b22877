package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// weakSuites are TLS 1.2 suites a server must not agree to: RSA key exchange (no forward
// secrecy), CBC (padding oracles: Lucky13 and kin), 3DES (Sweet32) and RC4.
var weakSuites = []uint16{
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA,
}

// TestTLSConfigSuites inspects the configuration: TLS 1.2 at least, and only ECDHE AEAD
// suites for 1.2.
func TestTLSConfigSuites(t *testing.T) {
	certFile, keyFile := writeRSASelfSigned(t)
	cfg, err := loadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2 or later", cfg.MinVersion)
	}
	if len(cfg.CipherSuites) == 0 {
		t.Fatal("CipherSuites is empty: Go's defaults would apply, want an explicit list")
	}
	insecure := tls.InsecureCipherSuites()
	for _, id := range cfg.CipherSuites {
		name := tls.CipherSuiteName(id)
		if slices.ContainsFunc(insecure, func(s *tls.CipherSuite) bool { return s.ID == id }) ||
			!strings.HasPrefix(name, "TLS_ECDHE_") ||
			strings.Contains(name, "CBC") || strings.Contains(name, "3DES") || strings.Contains(name, "RC4") {
			t.Errorf("CipherSuites holds %s, want only ECDHE with AEAD", name)
		}
	}
}

// TestTLSRefusesWeakSuites connects with clients limited to one weak suite: each handshake
// fails. The certificate is RSA, so that RSA key exchange would be possible; a server that
// allows the suite accepts the same client, which shows the client does offer it.
func TestTLSRefusesWeakSuites(t *testing.T) {
	certFile, keyFile := writeRSASelfSigned(t)
	cfg, err := loadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	strict := startTLSListener(t, cfg)
	for _, id := range weakSuites {
		name := tls.CipherSuiteName(id)
		if err := handshake(strict, id); err == nil {
			t.Errorf("a client offering only %s completed a handshake, want refusal", name)
		}
		permissive := cfg.Clone()
		permissive.CipherSuites = []uint16{id}
		if err := handshake(startTLSListener(t, permissive), id); err != nil {
			t.Errorf("control: a server allowing %s refused it too (%v); the test proves nothing", name, err)
		}
	}
	if err := handshake(strict, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("a client offering ECDHE-RSA-AES128-GCM failed: %v", err)
	}
}

// startTLSListener accepts connections and completes their handshakes until the test ends.
func startTLSListener(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// handshake connects to addr over TLS 1.2 offering only suite.
func handshake(addr string, suite uint16) error {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", addr, &tls.Config{
		InsecureSkipVerify: true, // the suite is under test, not the certificate
		MaxVersion:         tls.VersionTLS12,
		CipherSuites:       []uint16{suite},
	})
	if err != nil {
		return err
	}
	return conn.Close()
}

// writeRSASelfSigned writes a 2048-bit RSA certificate for 127.0.0.1 and its key.
func writeRSASelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, _ = writeCertificate(t, priv, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
	return certFile, keyFile
}
