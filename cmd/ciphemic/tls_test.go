package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSelfSigned writes an ECDSA certificate for 127.0.0.1 (and dnsNames) and its key,
// returning their paths and a pool that trusts the certificate.
func writeSelfSigned(t *testing.T, dnsNames ...string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return writeCertificate(t, priv, x509.KeyUsageDigitalSignature, dnsNames...)
}

// writeCertificate writes a self-signed certificate for 127.0.0.1 (and dnsNames) with
// priv's public key, and priv as PKCS#8, returning their paths and a pool that trusts the
// certificate.
func writeCertificate(t *testing.T, priv crypto.Signer, usage x509.KeyUsage, dnsNames ...string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: dnsNames, KeyUsage: usage,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: with a certificate the server speaks HTTPS only, TLS 1.2 or later, and
// sends HSTS.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	s := startServer(t, "", "--tls-cert-file", certFile, "--tls-key-file", keyFile)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("url = %s, want https", s.url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(s.url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q, want max-age", got)
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(s.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client connected, want refusal")
	}
	plain := strings.Replace(s.url, "https://", "http://", 1)
	if resp, err := http.Get(plain + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP to the TLS port answered 200")
		}
		resp.Body.Close()
	}
}
