package main

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The attack tests (attack_*_test.go) forge tokens the way an attacker would and send them
// to a real server started through run(). A forged token is only ever named by its case:
// no token, key or signature is printed, so a failing run leaks nothing.

// forgeSigner signs a JWS signing input; nil leaves the signature empty.
type forgeSigner func(input string) []byte

// forgeJWS assembles a compact JWS from the exact JSON texts of header and payload (so
// that duplicate members and odd types survive), signed by sign.
func forgeJWS(header, payload string, sign forgeSigner) string {
	input := forgeSeg([]byte(header)) + "." + forgeSeg([]byte(payload))
	return forgeSigned(input, sign)
}

// forgeSigned appends the signature of input, which may be encoded any way at all.
func forgeSigned(input string, sign forgeSigner) string {
	if sign == nil {
		return input + "."
	}
	return input + "." + forgeSeg(sign(input))
}

func forgeSeg(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// hmacSigner signs with HMAC of the hash alg names (HS256, HS384 or HS512) keyed by key,
// which may be anything, even empty, as an attacker's key may be.
func hmacSigner(alg string, key []byte) forgeSigner {
	h := map[string]crypto.Hash{"HS256": crypto.SHA256, "HS384": crypto.SHA384, "HS512": crypto.SHA512}[alg]
	return func(input string) []byte {
		m := hmac.New(h.New, key)
		m.Write([]byte(input))
		return m.Sum(nil)
	}
}

// methodSigner signs with the jwt library's method (an attacker's own asymmetric key).
func methodSigner(t *testing.T, m jwt.SigningMethod, key any) forgeSigner {
	t.Helper()
	return func(input string) []byte {
		sig, err := m.Sign(input, key)
		if err != nil {
			t.Fatalf("sign with %s: %v", m.Alg(), err)
		}
		return sig
	}
}

// forgeClaims is a token payload, written with encoding/json.
type forgeClaims map[string]any

// accessClaims returns the claims of a well-formed access token of userID, as the server
// issues them, issued now and living five minutes.
func accessClaims(t *testing.T, userID int64) forgeClaims {
	t.Helper()
	now := time.Now().Unix()
	return forgeClaims{
		"token_type": "access", "exp": now + 300, "iat": now, "jti": randomJTI(t),
		"user_id": userID, "sub": jsonString(userID), "roles": []string{"admin"},
	}
}

// with returns a copy of c with k set to v, or removed when v is nil.
func (c forgeClaims) with(k string, v any) forgeClaims {
	out := make(forgeClaims, len(c)+1)
	for key, val := range c {
		out[key] = val
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func (c forgeClaims) json(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// randomJTI returns 32 lower-case hex digits, the shape of a jti the server accepts.
func randomJTI(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// uuid7JTI returns a jti of the server's own kind, a UUIDv7 whose timestamp says at to the
// millisecond, so that a token made a moment after a revocation is not revoked by it.
func uuid7JTI(t *testing.T, at time.Time) string {
	t.Helper()
	ms := fmt.Sprintf("%012x", at.UnixMilli())
	r := randomJTI(t)
	return ms + "7" + r[13:16] + "8" + r[17:]
}

// hs256Header is the header of a token signed by the server's generated HS256 key, which
// has no kid (the current key verifies such tokens).
const hs256Header = `{"alg":"HS256","typ":"JWT"}`

// generatedKeyFile is the key `serve` generated beside its SQLite file.
func generatedKeyFile(s *server) string {
	return strings.TrimPrefix(s.database, "sqlite:") + ".hs256.key"
}

// mustServerSecret reads the server's HS256 secret from its key file, to forge tokens the
// server must refuse for some reason other than their signature.
func mustServerSecret(t *testing.T, s *server) []byte {
	t.Helper()
	secret, err := os.ReadFile(generatedKeyFile(s))
	if err != nil {
		t.Fatalf("read the generated key: %v", err)
	}
	return secret
}

// mustLogin logs in and returns the access and refresh tokens.
func mustLogin(t *testing.T, s *server, username, password string) (access, refresh string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	status, pair := s.post(t, "/api/token/", string(body), "")
	if status != 200 {
		t.Fatalf("login of %s = %d %v, want 200", username, status, pair)
	}
	return pair["access"].(string), pair["refresh"].(string)
}

// mustUserID returns the id /api/me/ reports for access.
func mustUserID(t *testing.T, s *server, access string) int64 {
	t.Helper()
	status, me := s.get(t, "/api/me/", access)
	id, ok := me["id"].(float64)
	if status != 200 || !ok {
		t.Fatalf("GET /api/me/ = %d %v, want 200 with an id", status, me)
	}
	return int64(id)
}

// mustCreateUser creates a user through the admin API and returns its id.
func mustCreateUser(t *testing.T, s *server, adminAccess, username, password, role string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"username": username, "password": password, "email": username + "@example.com",
		"first_name": "", "last_name": "", "roles": []string{role}, "is_active": true,
	})
	status, u := s.post(t, "/api/users/", string(body), adminAccess)
	id, ok := u["id"].(float64)
	if status != 201 || !ok {
		t.Fatalf("create user %s = %d %v, want 201", username, status, u)
	}
	return int64(id)
}

// answer is a raw response: the status, the headers and the body as sent.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send does req and reads the whole answer; a transport error fails the test.
func send(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// tokenUse is one place a token is presented.
type tokenUse struct {
	name string
	do   func(t *testing.T, s *server, tok string) answer
}

var (
	useBearer  = tokenUse{"GET /api/me/", func(t *testing.T, s *server, tok string) answer { return s.bearerGet(t, "/api/me/", tok) }}
	useVerify  = tokenUse{"POST /api/token/verify/", postTokenField("/api/token/verify/", "token")}
	useRefresh = tokenUse{"POST /api/token/refresh/", postTokenField("/api/token/refresh/", "refresh")}
	useLogout  = tokenUse{"POST /api/token/blacklist/", postTokenField("/api/token/blacklist/", "refresh")}
	// everyUse is where the attack tests present every forged token.
	everyUse = []tokenUse{useBearer, useVerify, useRefresh}
)

func (s *server) bearerGet(t *testing.T, path, tok string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return send(t, req)
}

func postTokenField(path, field string) func(t *testing.T, s *server, tok string) answer {
	return func(t *testing.T, s *server, tok string) answer {
		t.Helper()
		body, _ := json.Marshal(map[string]string{field: tok})
		req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return send(t, req)
	}
}

// wantRefused checks that tok is refused with a JSON 401 wherever a token is presented.
func wantRefused(t *testing.T, s *server, tok string, uses ...tokenUse) {
	t.Helper()
	if len(uses) == 0 {
		uses = everyUse
	}
	for _, u := range uses {
		a := u.do(t, s, tok)
		if a.status != http.StatusUnauthorized {
			t.Errorf("%s with the forged token = %d, want 401", u.name, a.status)
		}
		if !json.Valid(a.body) || !bytes.HasPrefix(a.body, []byte("{")) {
			t.Errorf("%s with the forged token: body is not a JSON object", u.name)
		}
	}
}

// wantAccepted checks that tok works as an access token: the control that shows a forging
// helper makes tokens the server takes, so that a refusal is for the reason under test.
func wantAccepted(t *testing.T, s *server, tok string) {
	t.Helper()
	for _, u := range []tokenUse{useBearer, useVerify} {
		if a := u.do(t, s, tok); a.status != http.StatusOK {
			t.Errorf("%s with the control token = %d %s, want 200", u.name, a.status, a.body)
		}
	}
}

// wantNoTokenInLog checks that none of toks reached the server's log.
func wantNoTokenInLog(t *testing.T, s *server, toks []string) {
	t.Helper()
	log := s.logText()
	for _, tok := range toks {
		for _, part := range strings.Split(tok, ".") {
			if len(part) >= 16 && strings.Contains(log, part) {
				t.Errorf("a segment of a forged token reached the server's log")
				return
			}
		}
	}
}
