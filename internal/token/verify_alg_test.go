package token

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func mustRejectInvalid(t *testing.T, s *Service, name, raw string) {
	t.Helper()
	if c, err := s.Parse(raw, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Parse(%s) = %+v, %v; want ErrInvalid", name, c, err)
	}
}

func TestAlgNoneRejected(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		for _, kid := range []string{"", `,"kid":"` + k.ID + `"`} {
			h := seg(`{"alg":"` + alg + `","typ":"JWT"` + kid + `}`)
			p := seg(payload())
			mustRejectInvalid(t, s, alg+" unsigned", h+"."+p+".")
			// Even if a library ignored the signature of "none", this one carries a valid HS256 MAC.
			mustRejectInvalid(t, s, alg+" with MAC", mustSignSegments(t, jwt.SigningMethodHS256, k.signKey, h, p))
		}
	}
}

// publicKeyBytes returns the encodings of k's public key that an attacker would try as an
// HMAC secret: PKIX DER and PEM, with and without the final newline.
func publicKeyBytes(t *testing.T, k *Key) map[string][]byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.verifyKey)
	if err != nil {
		t.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	out := map[string][]byte{"DER": der, "PEM": p, "PEM without newline": p[:len(p)-1]}
	if raw, ok := k.verifyKey.(ed25519.PublicKey); ok {
		out["raw"] = raw
	}
	return out
}

func TestHMACWithPublicKeyRejected(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			k := mustKey(t, alg, 0)
			s := mustService(t, testConfig(), k)
			for enc, secret := range publicKeyBytes(t, k) {
				for _, hs := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS512} {
					for _, kid := range []string{"", `,"kid":"` + k.ID + `"`} {
						h := seg(`{"alg":"` + hs.Alg() + `","typ":"JWT"` + kid + `}`)
						raw := mustSignSegments(t, hs, secret, h, seg(payload()))
						mustRejectInvalid(t, s, hs.Alg()+" with "+enc+" public key"+kid, raw)
					}
				}
			}
		})
	}
}

// TestHMACWithPublicKeyRejectedInMixedSet covers a set that legitimately allows HS256 (a
// previous key) next to an asymmetric current key: the HMAC algorithm is then in the
// parser's list, so only the key's own algorithm stands between the attacker and the key.
func TestHMACWithPublicKeyRejectedInMixedSet(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		k := mustKey(t, alg, 0)
		s := mustService(t, testConfig(), k, mustKey(t, "HS256", 0))
		for enc, secret := range publicKeyBytes(t, k) {
			for _, kid := range []string{"", `,"kid":"` + k.ID + `"`} {
				h := seg(`{"alg":"HS256","typ":"JWT"` + kid + `}`)
				raw := mustSignSegments(t, jwt.SigningMethodHS256, secret, h, seg(payload()))
				mustRejectInvalid(t, s, alg+" set, HS256 with "+enc+kid, raw)
			}
		}
	}
}

// TestAlgorithmMustMatchKey: with an HS256 and an HS512 key in force, a token naming one
// key must use that key's algorithm; otherwise a key could be used with an algorithm it
// was never meant for.
func TestAlgorithmMustMatchKey(t *testing.T) {
	k256, k512 := mustKey(t, "HS256", 0), mustKey(t, "HS512", 0)
	s := mustService(t, testConfig(), k256, k512)
	p := seg(payload())
	raw := mustSignSegments(t, jwt.SigningMethodHS512, k256.signKey, seg(`{"alg":"HS512","kid":"`+k256.ID+`"}`), p)
	mustRejectInvalid(t, s, "HS512 with the HS256 key", raw)
	raw = mustSignSegments(t, jwt.SigningMethodHS256, k512.signKey, seg(`{"alg":"HS256","kid":"`+k512.ID+`"}`), p)
	mustRejectInvalid(t, s, "HS256 with the HS512 key", raw)
	raw = mustSignSegments(t, jwt.SigningMethodHS512, k256.signKey, seg(`{"alg":"HS512"}`), p)
	mustRejectInvalid(t, s, "HS512 with the current HS256 key, no kid", raw)
}

func TestAlgorithmPinned(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
		for _, kid := range []string{"", `,"kid":"` + k.ID + `"`} {
			raw := mustSignSegments(t, m, k.signKey, seg(`{"alg":"`+m.Alg()+`","typ":"JWT"`+kid+`}`), seg(payload()))
			mustRejectInvalid(t, s, m.Alg()+" with the right secret"+kid, raw)
		}
	}
}

func TestOtherKeyOfSameAlgorithmRejected(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			ours, theirs := mustKey(t, alg, 0), mustKey(t, alg, 1)
			s := mustService(t, testConfig(), ours)
			for name, h := range map[string]string{
				"our kid":   header(ours, ""),
				"their kid": header(theirs, ""),
				"no kid":    `{"alg":"` + alg + `","typ":"JWT"}`,
			} {
				mustRejectInvalid(t, s, name, mustMint(t, theirs, h, payload()))
			}
		})
	}
}

func TestKidSelectsKey(t *testing.T) {
	cur, prev := mustKey(t, "HS256", 0), mustKey(t, "HS256", 1)
	s := mustService(t, testConfig(), cur, prev)
	noKid := `{"alg":"HS256","typ":"JWT"}`
	accept := map[string]string{
		"current key, its kid":  mustMint(t, cur, header(cur, ""), payload()),
		"previous key, its kid": mustMint(t, prev, header(prev, ""), payload()),
		"current key, no kid":   mustMint(t, cur, noKid, payload()),
	}
	for name, raw := range accept {
		if _, err := s.Parse(raw, TypeAccess); err != nil {
			t.Errorf("Parse(%s) = %v, want nil", name, err)
		}
	}
	// Without a kid only the current key verifies, so a retired key cannot sign anonymously.
	mustRejectInvalid(t, s, "previous key, no kid", mustMint(t, prev, noKid, payload()))
	for _, kid := range []string{`"../../dev/null"`, `"' OR 1=1 --"`, `""`, `"` + cur.ID + `x"`, `1`, `null`, `["` + cur.ID + `"]`} {
		raw := mustMint(t, cur, `{"alg":"HS256","typ":"JWT","kid":`+kid+`}`, payload())
		mustRejectInvalid(t, s, "kid "+kid, raw)
	}
}

// jwkOf returns the public JWK of k as a JSON object.
func jwkOf(t *testing.T, k *Key) string {
	t.Helper()
	b, err := json.Marshal(k.jwk)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestKeyURLHeadersIgnored(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			ours, attacker := mustKey(t, alg, 0), mustKey(t, alg, 1)
			s := mustService(t, testConfig(), ours)
			embedded := `"jwk":` + jwkOf(t, attacker)
			for name, h := range map[string]string{
				"jwk, no kid":       `{"alg":"` + alg + `","typ":"JWT",` + embedded + `}`,
				"jwk, attacker kid": header(attacker, embedded),
				"jwk, our kid":      header(ours, embedded),
				"jku":               header(ours, `"jku":"https://evil.example/jwks.json"`),
				"x5u":               `{"alg":"` + alg + `","x5u":"https://evil.example/cert.pem"}`,
				"x5c":               `{"alg":"` + alg + `","x5c":["MIIB"]}`,
			} {
				mustRejectInvalid(t, s, name, mustMint(t, attacker, h, payload()))
			}
		})
	}
}

func TestHeaderRules(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	accept := map[string]string{
		"typ JWT":  header(k, ""),
		"typ jwt":  `{"alg":"HS256","kid":"` + k.ID + `","typ":"jwt"}`,
		"no typ":   `{"alg":"HS256","kid":"` + k.ID + `"}`,
		"jku kept": header(k, `"jku":"https://evil.example/"`),
	}
	for name, h := range accept {
		if _, err := s.Parse(mustMint(t, k, h, payload()), TypeAccess); err != nil {
			t.Errorf("Parse(%s) = %v, want nil", name, err)
		}
	}
	reject := map[string]string{
		"crit":          header(k, `"crit":["exp"]`),
		"empty crit":    header(k, `"crit":[]`),
		"b64 with crit": header(k, `"b64":false,"crit":["b64"]`),
		"typ at+jwt":    `{"alg":"HS256","kid":"` + k.ID + `","typ":"at+jwt"}`,
		"typ JOSE":      `{"alg":"HS256","kid":"` + k.ID + `","typ":"JOSE"}`,
		"typ number":    `{"alg":"HS256","kid":"` + k.ID + `","typ":1}`,
		"no alg":        `{"kid":"` + k.ID + `","typ":"JWT"}`,
		"alg number":    `{"alg":256,"kid":"` + k.ID + `"}`,
	}
	for name, h := range reject {
		mustRejectInvalid(t, s, name, mustMint(t, k, h, payload()))
	}
}

// TestParserOptions checks each option of newParser on the parser alone, with a key
// function that hands out the key whatever the token says, so that each option is shown
// to matter even where Parse has a second line of defence.
func TestParserOptions(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	anyKey := func(*jwt.Token) (any, error) { return k.signKey, nil }
	parse := func(cfg Config, raw string) error {
		var p parsedPayload
		_, err := newParser([]string{"HS256"}, cfg).ParseWithClaims(raw, &p, anyKey)
		return err
	}
	cfg := testConfig()
	good := mustMint(t, k, header(k, ""), payload())
	if err := parse(cfg, good); err != nil {
		t.Fatalf("parse(valid token) = %v", err)
	}
	hs512 := mustSignSegments(t, jwt.SigningMethodHS512, k.signKey, seg(`{"alg":"HS512"}`), seg(payload()))
	issuer, audience := cfg, cfg
	issuer.Issuer, audience.Audience = "iss", "aud"
	expired := mustMint(t, k, header(k, ""), payload("iat", itoa(t0.Unix()-400), "exp", itoa(t0.Unix()-10)))
	tests := []struct {
		name string
		cfg  Config
		raw  string
	}{
		{"WithValidMethods", cfg, hs512},
		{"WithExpirationRequired", cfg, mustMint(t, k, header(k, ""), payload("exp", ""))},
		{"WithIssuedAt", cfg, mustMint(t, k, header(k, ""), payload("iat", itoa(t0.Unix()+60)))},
		{"WithLeeway (none)", cfg, expired},
		{"WithStrictDecoding", cfg, nonCanonicalSignature(t, good)},
		{"WithIssuer", issuer, good},
		{"WithAudience", audience, good},
	}
	for _, tc := range tests {
		if err := parse(tc.cfg, tc.raw); err == nil {
			t.Errorf("%s: parse = nil error, want one", tc.name)
		}
	}
	leeway := cfg
	leeway.Leeway = 30 * time.Second
	if err := parse(leeway, expired); err != nil {
		t.Errorf("WithLeeway(30s): parse(expired 10s ago) = %v, want nil", err)
	}
}
