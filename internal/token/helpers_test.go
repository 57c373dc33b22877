package token

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/golang-jwt/jwt/v5"
)

var allAlgs = []string{"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"}

// t0 is the tests' "now"; it has milliseconds, so that second truncation shows.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 456_789_000, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// testKeys caches generated keys: RSA generation is slow, and most tests only need "a key
// of alg that is not the other one".
var testKeys = struct {
	sync.Mutex
	m map[string][]byte
}{m: map[string][]byte{}}

// mustKeyFile returns the content of the n-th cached key file of alg.
func mustKeyFile(tb testing.TB, alg string, n int) []byte {
	tb.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	id := alg + "/" + string(rune('0'+n))
	if data, ok := testKeys.m[id]; ok {
		return data
	}
	var data []byte
	var err error
	if alg == "RS256" {
		data, err = pkcs8PEM(rsa.GenerateKey(rand.Reader, 2048)) // GenerateKey's 3072 bits are slow
	} else {
		data, err = GenerateKey(alg)
	}
	if err != nil {
		tb.Fatalf("generate %s key: %v", alg, err)
	}
	testKeys.m[id] = data
	return data
}

func pkcs8PEM[K any](priv K, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func mustKey(tb testing.TB, alg string, n int) *Key {
	tb.Helper()
	k, err := ParseKey(alg, mustKeyFile(tb, alg, n))
	if err != nil {
		tb.Fatalf("ParseKey(%s) = %v", alg, err)
	}
	return k
}

func mustKeySet(tb testing.TB, current *Key, previous ...*Key) *KeySet {
	tb.Helper()
	ks, err := NewKeySet(current, previous...)
	if err != nil {
		tb.Fatalf("NewKeySet = %v", err)
	}
	return ks
}

func testConfig() Config {
	return Config{AccessLifetime: 5 * time.Minute, RefreshLifetime: 24 * time.Hour, Now: fixedClock(t0)}
}

func mustService(tb testing.TB, cfg Config, current *Key, previous ...*Key) *Service {
	tb.Helper()
	s, err := NewService(mustKeySet(tb, current, previous...), cfg)
	if err != nil {
		tb.Fatalf("NewService = %v", err)
	}
	return s
}

func mustIssueAccess(tb testing.TB, s *Service, at time.Time) (string, Claims) {
	tb.Helper()
	raw, c, err := s.IssueAccess(7, []ciphemic.Role{ciphemic.RoleTeacher}, at)
	if err != nil {
		tb.Fatalf("IssueAccess = %v", err)
	}
	return raw, c
}

func mustIssueRefresh(tb testing.TB, s *Service, at time.Time) (string, Claims) {
	tb.Helper()
	raw, c, err := s.IssueRefresh(7, at)
	if err != nil {
		tb.Fatalf("IssueRefresh = %v", err)
	}
	return raw, c
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// mustSignSegments signs already-encoded segments with method and key, the way an attacker
// holding key would.
func mustSignSegments(tb testing.TB, method jwt.SigningMethod, key any, header, payload string) string {
	tb.Helper()
	input := header + "." + payload
	sig, err := method.Sign(input, key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// mustMint signs JSON header and payload texts, verbatim, with k.
func mustMint(tb testing.TB, k *Key, header, payload string) string {
	tb.Helper()
	return mustSignSegments(tb, k.method, k.signKey, seg(header), seg(payload))
}

// header returns the JSON header k would write, plus extra members (`"x":1,...`).
func header(k *Key, extra string) string {
	h := `{"alg":"` + k.Algorithm + `","kid":"` + k.ID + `","typ":"JWT"`
	if extra != "" {
		h += "," + extra
	}
	return h + "}"
}

// payload returns a valid access payload at t0 for user 7, with replacements applied:
// each replacement is a member name and its new JSON value ("" deletes it).
func payload(repl ...string) string {
	members := []string{
		"token_type", `"access"`,
		"exp", itoa(t0.Unix() + 300),
		"iat", itoa(t0.Unix()),
		"jti", `"0123456789abcdef0123456789abcdef"`,
		"user_id", "7",
		"sub", `"7"`,
		"roles", `["teacher"]`,
	}
	for i := 0; i+1 < len(repl); i += 2 {
		found := false
		for j := 0; j < len(members); j += 2 {
			if members[j] == repl[i] {
				members[j+1], found = repl[i+1], true
			}
		}
		if !found {
			members = append(members, repl[i], repl[i+1])
		}
	}
	var b strings.Builder
	for j := 0; j < len(members); j += 2 {
		if members[j+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + members[j] + `":` + members[j+1])
	}
	return "{" + b.String() + "}"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
