package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// hs256Server starts a server on its generated HS256 key and returns it with the admin's
// id and the key, which the tests use to forge tokens that differ from good ones in one
// respect only.
func hs256Server(t *testing.T, extraArgs ...string) (s *server, adminID int64, secret []byte) {
	t.Helper()
	s = startServer(t, "", extraArgs...)
	access, _ := mustLogin(t, s, "admin", s.adminPW)
	return s, mustUserID(t, s, access), mustServerSecret(t, s)
}

// TestAttackAlgNone: "alg": "none" in any spelling is refused, with or without a
// signature (RFC 8725 §3.1), as are a missing, empty or non-string alg and case variants
// of the right one.
func TestAttackAlgNone(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	payload := accessClaims(t, adminID).json(t)
	good := hmacSigner("HS256", secret)
	wantAccepted(t, s, forgeJWS(hs256Header, payload, good))
	var forged []string
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		header := `{"alg":"` + alg + `","typ":"JWT"}`
		for name, sign := range map[string]forgeSigner{"unsigned": nil, "signed with the server key": good} {
			t.Run(alg+" "+name, func(t *testing.T) {
				tok := forgeJWS(header, payload, sign)
				forged = append(forged, tok)
				wantRefused(t, s, tok)
			})
		}
	}
	for name, header := range map[string]string{
		"no alg":     `{"typ":"JWT"}`,
		"empty alg":  `{"alg":"","typ":"JWT"}`,
		"number alg": `{"alg":256,"typ":"JWT"}`,
		"null alg":   `{"alg":null,"typ":"JWT"}`,
		"lower case": `{"alg":"hs256","typ":"JWT"}`,
		"mixed case": `{"alg":"Hs256","typ":"JWT"}`,
		"padded":     `{"alg":"HS256 ","typ":"JWT"}`,
		"HS512":      `{"alg":"HS512","typ":"JWT"}`,
	} {
		t.Run(name, func(t *testing.T) {
			sign := good
			if name == "HS512" {
				sign = hmacSigner("HS512", secret) // the right key, an algorithm not configured
			}
			tok := forgeJWS(header, payload, sign)
			forged = append(forged, tok)
			wantRefused(t, s, tok)
		})
	}
	wantNoTokenInLog(t, s, forged)
	if strings.Contains(s.logText(), string(secret)) {
		t.Error("the signing key reached the server's log")
	}
}

// TestAttackKid: a kid is looked up among the server's keys, never used as a path, a
// query or anything else. Each forged kid is signed both with an empty key (what
// /dev/null holds) and with the server's own secret, and refused either way.
func TestAttackKid(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	payload := accessClaims(t, adminID).json(t)
	keyPath, _ := filepath.Abs(generatedKeyFile(s))
	kids := map[string]any{
		"path traversal":     "../../../../dev/null",
		"absolute /dev/null": "/dev/null",
		"the key file":       keyPath,
		"SQL injection":      "' OR '1'='1",
		"SQL comment":        "x' UNION SELECT 'a'--",
		"empty":              "",
		"number":             1,
		"null":               nil,
		"list":               []string{"a"},
		"object":             map[string]string{},
	}
	signers := map[string][]byte{"empty key": {}, "server key": secret}
	for name, kid := range kids {
		kidJSON, _ := json.Marshal(kid)
		header := `{"alg":"HS256","kid":` + string(kidJSON) + `,"typ":"JWT"}`
		for signer, key := range signers {
			t.Run(name+" "+signer, func(t *testing.T) {
				wantRefused(t, s, forgeJWS(header, payload, hmacSigner("HS256", key)))
			})
		}
	}
}

// TestAttackHeaderRules: a token with a "crit" header is refused (the server understands
// no extension), and so is any "typ" other than JWT (RFC 8725 §3.11), which the token
// package compares case-insensitively.
func TestAttackHeaderRules(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	payload := accessClaims(t, adminID).json(t)
	sign := hmacSigner("HS256", secret)
	for _, header := range []string{`{"alg":"HS256"}`, `{"alg":"HS256","typ":"jwt"}`, hs256Header} {
		wantAccepted(t, s, forgeJWS(header, payload, sign))
	}
	for name, header := range map[string]string{
		"crit exp":        `{"alg":"HS256","crit":["exp"],"exp":1,"typ":"JWT"}`,
		"crit b64":        `{"alg":"HS256","b64":false,"crit":["b64"],"typ":"JWT"}`,
		"crit empty":      `{"alg":"HS256","crit":[],"typ":"JWT"}`,
		"typ at+jwt":      `{"alg":"HS256","typ":"at+jwt"}`,
		"typ JOSE":        `{"alg":"HS256","typ":"JOSE"}`,
		"typ refresh+jwt": `{"alg":"HS256","typ":"refresh+jwt"}`,
		"typ empty":       `{"alg":"HS256","typ":""}`,
		"typ number":      `{"alg":"HS256","typ":1}`,
		"typ null":        `{"alg":"HS256","typ":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, s, forgeJWS(header, payload, sign))
		})
	}
}

// TestAttackHMACWithPublicKey: against a server that signs with RS256, ES256 or EdDSA, a
// token signed with HMAC keyed by the server's public key, in every encoding an attacker
// might try, is refused (RFC 8725 §3.1, §2.1): the algorithm comes from the key, never
// from the token.
func TestAttackHMACWithPublicKey(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s, pub := asymmetricServer(t, alg)
			access, _ := mustLogin(t, s, "admin", s.adminPW)
			payload := accessClaims(t, mustUserID(t, s, access)).json(t)
			for keyName, key := range publicKeyEncodings(t, pub) {
				for _, hs := range []string{"HS256", "HS384", "HS512"} {
					for _, withKid := range []bool{false, true} {
						header := `{"alg":"` + hs + `","typ":"JWT"}`
						if withKid {
							header = `{"alg":"` + hs + `","kid":"` + pub.kid + `","typ":"JWT"}`
						}
						t.Run(fmt.Sprintf("%s %s kid=%v", hs, keyName, withKid), func(t *testing.T) {
							wantRefused(t, s, forgeJWS(header, payload, hmacSigner(hs, key)))
						})
					}
				}
			}
		})
	}
}

// TestAttackEmbeddedAndRemoteKeys: keys a token brings along are never used. A token
// signed with the attacker's own key is refused whether the key is embedded ("jwk",
// "x5c") or referenced ("jku", "x5u"), and the server never fetches a referenced URL.
func TestAttackEmbeddedAndRemoteKeys(t *testing.T) {
	s, pub := asymmetricServer(t, "ES256")
	access, _ := mustLogin(t, s, "admin", s.adminPW)
	payload := accessClaims(t, mustUserID(t, s, access)).json(t)

	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, kid := ecJWK(attacker)
	var fetches atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"keys":[%s]}`, jwk)
	}))
	defer evil.Close()
	cert := base64.StdEncoding.EncodeToString(selfSignedDER(t, attacker))

	sign := methodSigner(t, jwt.SigningMethodES256, attacker)
	for name, extra := range map[string]string{
		"jwk":                  `"jwk":` + jwk,
		"jku":                  `"jku":"` + evil.URL + `/jwks.json"`,
		"x5u":                  `"x5u":"` + evil.URL + `/cert.pem"`,
		"x5c":                  `"x5c":["` + cert + `"]`,
		"jku and x5u together": `"jku":"` + evil.URL + `/a","x5u":"` + evil.URL + `/b"`,
	} {
		for kidName, kidValue := range map[string]string{"no kid": "", "attacker kid": kid, "server kid": pub.kid} {
			header := `{"alg":"ES256",` + extra + `,"typ":"JWT"`
			if kidValue != "" {
				header += `,"kid":"` + kidValue + `"`
			}
			header += "}"
			t.Run(name+" "+kidName, func(t *testing.T) {
				wantRefused(t, s, forgeJWS(header, payload, sign))
			})
		}
	}
	if n := fetches.Load(); n != 0 {
		t.Errorf("the server fetched the attacker's URLs %d times, want never", n)
	}
}

// ecJWK returns the public JWK of k and its RFC 7638 thumbprint.
func ecJWK(k *ecdsa.PrivateKey) (jwk, kid string) {
	point, _ := k.PublicKey.Bytes()
	x, y := forgeSeg(point[1:33]), forgeSeg(point[33:])
	thumb := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, x, y)
	sum := jwt.SigningMethodHS256.Hash.New()
	sum.Write([]byte(thumb))
	kid = forgeSeg(sum.Sum(nil))
	return fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":"%s","y":"%s","kid":"%s","alg":"ES256","use":"sig"}`, x, y, kid), kid
}

// selfSignedDER returns a self-signed certificate of k, as an attacker would put in x5c.
func selfSignedDER(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ciphemic"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
