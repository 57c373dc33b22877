package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// serverPublicKey is what anyone can learn of an asymmetric server's key: the public key
// (from a certificate or a leaked file) and the server's JWKS entry.
type serverPublicKey struct {
	kid  string
	pub  crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	jwk  []byte           // the JWKS entry, as served
	jwks []byte           // the whole JWKS document, as served
	// raw are the base64url-decoded members of the JWK ("n", "x", "y") by name.
	raw map[string][]byte
}

// asymmetricServer starts a server signing with a key of alg made by `ciphemic keys
// generate`, and returns it with its public key.
func asymmetricServer(t *testing.T, alg string, extraArgs ...string) (*server, serverPublicKey) {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), alg+".pem")
	if _, stderr, err := runCmd(t, nil, "", "keys", "generate", "--algorithm", alg, "--out", keyFile); err != nil {
		t.Fatalf("keys generate --algorithm %s = %v (%s)", alg, err, stderr)
	}
	s := startServer(t, "", append([]string{"--algorithm", alg, "--signing-key-file", keyFile}, extraArgs...)...)
	return s, mustPublicKey(t, s, keyFile)
}

func mustPublicKey(t *testing.T, s *server, keyFile string) serverPublicKey {
	t.Helper()
	data, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("generated key file holds no PEM block")
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var k serverPublicKey
	k.pub = priv.(crypto.Signer).Public()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/.well-known/jwks.json", nil)
	a := send(t, req)
	var doc struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(a.body, &doc); a.status != 200 || err != nil || len(doc.Keys) != 1 {
		t.Fatalf("GET /.well-known/jwks.json = %d (%v), want 200 with one key", a.status, err)
	}
	k.jwks, k.jwk = a.body, doc.Keys[0]
	var members map[string]string
	if err := json.Unmarshal(k.jwk, &members); err != nil {
		t.Fatal(err)
	}
	k.kid, k.raw = members["kid"], map[string][]byte{}
	for _, name := range []string{"n", "x", "y"} {
		if v, ok := members[name]; ok {
			if k.raw[name], err = base64.RawURLEncoding.DecodeString(v); err != nil {
				t.Fatalf("JWKS member %s: %v", name, err)
			}
		}
	}
	return k
}

// publicKeyEncodings are the byte strings an attacker might use as the HMAC secret when
// trying algorithm confusion with k: PEM and DER, PKIX and PKCS#1, the raw JWK members,
// and the JWK and JWKS texts.
func publicKeyEncodings(t *testing.T, k serverPublicKey) map[string][]byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	pemText := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	out := map[string][]byte{
		"PEM":                 pemText,
		"PEM without newline": pemText[:len(pemText)-1],
		"DER":                 der,
		"JWK text":            k.jwk,
		"JWKS text":           k.jwks,
	}
	for name, b := range k.raw {
		out["JWK "+name+" bytes"] = b
		out["JWK "+name+" text"] = []byte(base64.RawURLEncoding.EncodeToString(b))
	}
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		pkcs1 := x509.MarshalPKCS1PublicKey(pub)
		out["PKCS#1 DER"] = pkcs1
		out["PKCS#1 PEM"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})
	case *ecdsa.PublicKey:
		point, err := pub.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		out["EC point"] = point
		out["JWK x||y bytes"] = point[1:]
	}
	return out
}
