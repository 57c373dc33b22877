package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestValidAlgorithm(t *testing.T) {
	for _, alg := range allAlgs {
		if !ValidAlgorithm(alg) {
			t.Errorf("ValidAlgorithm(%q) = false, want true", alg)
		}
	}
	for _, alg := range []string{"", "none", "None", "hs256", "RS384", "PS256", "ES384", "Ed25519"} {
		if ValidAlgorithm(alg) {
			t.Errorf("ValidAlgorithm(%q) = true, want false", alg)
		}
	}
}

func TestParseHMACKey(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef" // exactly 32 bytes
	base := mustParseKey(t, "HS256", secret)
	for _, content := range []string{secret + "\n", secret + "\r\n"} {
		if k := mustParseKey(t, "HS256", content); k.ID != base.ID {
			t.Errorf("ParseKey(secret+%q).ID = %s, want %s (one line end trimmed)", content[32:], k.ID, base.ID)
		}
	}
	for _, content := range []string{secret + "\n\n", secret + "\r", secret + " "} {
		if k := mustParseKey(t, "HS256", content); k.ID == base.ID {
			t.Errorf("ParseKey(secret+%q) has the secret's ID; only one line end may be trimmed", content[32:])
		}
	}
	want := sha256.Sum256([]byte(`{"k":"` + base64.RawURLEncoding.EncodeToString([]byte(secret)) + `","kty":"oct"}`))
	if base.ID != base64.RawURLEncoding.EncodeToString(want[:]) {
		t.Errorf("HMAC key ID = %s, want the RFC 7638 thumbprint of the oct JWK", base.ID)
	}
	short := "secret-of-31-bytes-xxxxxxxxxxxx"
	for _, content := range []string{short, short + "\n", short + "\r\n", ""} {
		_, err := ParseKey("HS256", []byte(content))
		if err == nil || !strings.Contains(err.Error(), "32") || (content != "" && strings.Contains(err.Error(), short)) {
			t.Errorf("ParseKey(%d-byte secret) = %v, want an error naming the minimum, not the secret", len(content), err)
		}
	}
}

func mustParseKey(t *testing.T, alg, content string) *Key {
	t.Helper()
	k, err := ParseKey(alg, []byte(content))
	if err != nil {
		t.Fatalf("ParseKey(%s) = %v", alg, err)
	}
	return k
}

func TestParseKeyRefusesWrongKeys(t *testing.T) {
	rsa1024, err := pkcs8PEM(rsa.GenerateKey(rand.Reader, 1024))
	if err != nil {
		t.Fatal(err)
	}
	p384, err := pkcs8PEM(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, _ := pem.Decode(mustKeyFile(t, "RS256", 0))
	priv, _ := x509.ParsePKCS8PrivateKey(rsaKey.Bytes)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv.(*rsa.PrivateKey))})
	tests := []struct {
		name, alg string
		content   []byte
	}{
		{"RSA key for ES256", "ES256", mustKeyFile(t, "RS256", 0)},
		{"RSA key for EdDSA", "EdDSA", mustKeyFile(t, "RS256", 0)},
		{"EC key for RS256", "RS256", mustKeyFile(t, "ES256", 0)},
		{"Ed25519 key for ES256", "ES256", mustKeyFile(t, "EdDSA", 0)},
		{"1024-bit RSA", "RS256", rsa1024},
		{"P-384 for ES256", "ES256", p384},
		{"PKCS#1", "RS256", pkcs1},
		{"encrypted", "RS256", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: rsaKey.Bytes})},
		{"trailing data", "RS256", append(mustKeyFile(t, "RS256", 0), "junk"...)},
		{"two keys", "EdDSA", append(mustKeyFile(t, "EdDSA", 0), mustKeyFile(t, "EdDSA", 1)...)},
		{"not PEM", "EdDSA", []byte("not a key, but long enough to be an HMAC secret")},
		{"bad DER", "EdDSA", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")})},
		{"PEM for HS256 too short", "HS256", []byte("short")},
		{"unknown algorithm", "none", mustKeyFile(t, "HS256", 0)},
	}
	for _, tc := range tests {
		_, err := ParseKey(tc.alg, tc.content)
		if err == nil {
			t.Errorf("ParseKey(%s) = nil error, want one", tc.name)
			continue
		}
		for _, line := range strings.Split(string(tc.content), "\n") {
			if len(line) >= 8 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
				t.Errorf("ParseKey(%s) error %q contains key material", tc.name, err)
			}
		}
	}
}

func TestGenerateKey(t *testing.T) {
	for _, alg := range allAlgs {
		content, err := GenerateKey(alg)
		if err != nil {
			t.Fatalf("GenerateKey(%s) = %v", alg, err)
		}
		k, err := ParseKey(alg, content)
		if err != nil {
			t.Fatalf("ParseKey(GenerateKey(%s)) = %v", alg, err)
		}
		again, _ := GenerateKey(alg)
		if k2, _ := ParseKey(alg, again); k2 == nil || k2.ID == k.ID {
			t.Errorf("GenerateKey(%s) twice gave the same key", alg)
		}
		if isHMAC(alg) {
			raw, err := base64.RawURLEncoding.DecodeString(string(content))
			if len(content) != 86 || err != nil || len(raw) != 64 {
				t.Errorf("GenerateKey(%s) = %d chars (%v), want 86 base64url chars of 64 bytes", alg, len(content), err)
			}
			continue
		}
		if b, _ := pem.Decode(content); b == nil || b.Type != "PRIVATE KEY" {
			t.Errorf("GenerateKey(%s) is not a PKCS#8 PEM block", alg)
		}
		if rk, ok := k.signKey.(*rsa.PrivateKey); ok && rk.N.BitLen() != 3072 {
			t.Errorf("GenerateKey(RS256) has %d bits, want 3072", rk.N.BitLen())
		}
	}
	if _, err := GenerateKey("none"); err == nil {
		t.Error(`GenerateKey("none") = nil error, want one`)
	}
}

func TestThumbprintVectors(t *testing.T) {
	// RFC 7638 section 3.1.
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX" +
		"jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaS" +
		"qzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksIN" +
		"HaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	if got, _ := thumbprint(&jwk{E: "AQAB", Kty: "RSA", N: n}); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("RFC 7638 RSA thumbprint = %s", got)
	}
	// RFC 8037 appendix A: the Ed25519 key, end to end through ParseKey.
	seed, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	content, err := pkcs8PEM(ed25519.NewKeyFromSeed(seed), nil)
	if err != nil {
		t.Fatal(err)
	}
	if k := mustParseKey(t, "EdDSA", string(content)); k.ID != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Errorf("RFC 8037 Ed25519 thumbprint = %s", k.ID)
	}
}

func TestNewKeySetRefusesBadKeys(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	for name, fn := range map[string]func() (*KeySet, error){
		"nil current":  func() (*KeySet, error) { return NewKeySet(nil) },
		"nil previous": func() (*KeySet, error) { return NewKeySet(k, nil) },
		"zero Key":     func() (*KeySet, error) { return NewKeySet(&Key{ID: "x", Algorithm: "HS256"}) },
		"same key":     func() (*KeySet, error) { return NewKeySet(k, mustKey(t, "HS256", 0)) },
	} {
		if _, err := fn(); err == nil {
			t.Errorf("NewKeySet(%s) = nil error, want one", name)
		}
	}
}

func TestJWKS(t *testing.T) {
	hs := mustKeySet(t, mustKey(t, "HS256", 0), mustKey(t, "HS512", 0))
	if got := string(hs.JWKS()); got != `{"keys":[]}` {
		t.Errorf("JWKS(HMAC keys) = %s, want {\"keys\":[]}", got)
	}
	keys := []*Key{mustKey(t, "EdDSA", 0), mustKey(t, "HS256", 0), mustKey(t, "RS256", 0), mustKey(t, "ES256", 0)}
	ks := mustKeySet(t, keys[0], keys[1:]...)
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(ks.JWKS(), &doc); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	public := []*Key{keys[0], keys[2], keys[3]}
	if len(doc.Keys) != len(public) {
		t.Fatalf("JWKS has %d keys, want %d (HMAC left out)", len(doc.Keys), len(public))
	}
	for i, k := range public {
		entry := doc.Keys[i]
		if entry["kid"] != k.ID || entry["alg"] != k.Algorithm || entry["use"] != "sig" || entry["k"] != "" || entry["d"] != "" {
			t.Errorf("JWKS key %d = %v, want kid %s, alg %s, use sig, no private members", i, entry, k.ID, k.Algorithm)
		}
		s := mustService(t, testConfig(), k)
		raw, _ := mustIssueAccess(t, s, t0)
		pub := publicKeyFromJWK(t, entry)
		if _, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithTimeFunc(fixedClock(t0))); err != nil {
			t.Errorf("token of %s does not verify with its JWKS entry: %v", k.Algorithm, err)
		}
		if id := rfc7638(entry); id != k.ID {
			t.Errorf("RFC 7638 thumbprint of the JWKS entry = %s, want its kid %s", id, k.ID)
		}
	}
	ks.JWKS()[0] = 'x'
	if ks.JWKS()[0] != '{' {
		t.Error("JWKS() result aliases the key set's document")
	}
}

// rfc7638 computes the thumbprint of a public JWK by the letter of RFC 7638 section 3.2.
func rfc7638(j map[string]string) string {
	var canon string
	switch j["kty"] {
	case "RSA":
		canon = `{"e":"` + j["e"] + `","kty":"RSA","n":"` + j["n"] + `"}`
	case "EC":
		canon = `{"crv":"` + j["crv"] + `","kty":"EC","x":"` + j["x"] + `","y":"` + j["y"] + `"}`
	case "OKP":
		canon = `{"crv":"` + j["crv"] + `","kty":"OKP","x":"` + j["x"] + `"}`
	}
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// publicKeyFromJWK rebuilds a public key from its JWK the way a relying party would.
func publicKeyFromJWK(t *testing.T, j map[string]string) any {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil {
			t.Fatalf("JWK member %q: %v", s, err)
		}
		return b
	}
	switch j["kty"] {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(j["n"])), E: int(new(big.Int).SetBytes(dec(j["e"])).Int64())}
	case "EC":
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, dec(j["x"])...), dec(j["y"])...))
		if err != nil || j["crv"] != "P-256" {
			t.Fatalf("EC JWK: %v", err)
		}
		return pub
	case "OKP":
		if j["crv"] != "Ed25519" {
			t.Fatalf("OKP JWK crv = %s", j["crv"])
		}
		return ed25519.PublicKey(dec(j["x"]))
	}
	t.Fatalf("JWK kty = %q", j["kty"])
	return nil
}
