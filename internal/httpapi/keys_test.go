package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// TestEveryAlgorithm logs in and calls a protected route with each signing algorithm, and
// checks that the JWKS publishes the public key under the kid the tokens carry.
func TestEveryAlgorithm(t *testing.T) {
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			content, err := token.GenerateKey(alg)
			if err != nil {
				t.Fatalf("GenerateKey: %v", err)
			}
			key := mustParseKey(t, alg, content)
			in := newInstance(t, options{key: key})
			in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
			access, refresh := in.login(t, "testuser", "password")
			header := decodeSegment(t, access, 0)
			if header["alg"] != alg || header["typ"] != "JWT" || header["kid"] != key.ID {
				t.Errorf("header = %v, want alg %s, typ JWT, kid %s", header, alg, key.ID)
			}
			if r := in.get(t, "/api/me/", access); r.status != 200 {
				t.Errorf("GET /api/me/ = %d %s, want 200", r.status, r.body)
			}
			if r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}); r.status != 200 {
				t.Errorf("refresh = %d %s, want 200", r.status, r.body)
			}
			var jwks struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(in.get(t, "/.well-known/jwks.json", "").body, &jwks); err != nil {
				t.Fatal(err)
			}
			wantKeys := 1
			if strings.HasPrefix(alg, "HS") {
				wantKeys = 0
			}
			if len(jwks.Keys) != wantKeys || (wantKeys == 1 && jwks.Keys[0]["kid"] != key.ID) {
				t.Errorf("JWKS = %v, want %d key(s) with kid %s", jwks.Keys, wantKeys, key.ID)
			}
			for _, k := range jwks.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
					if _, ok := k[private]; ok {
						t.Errorf("JWKS key has private member %q", private)
					}
				}
			}
		})
	}
}

// decodeSegment decodes part i (0 header, 1 payload) of a compact JWT.
func decodeSegment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimsWireFormat(t *testing.T) {
	in := newInstance(t, options{})
	u := in.mustCreateUser(t, "testuser", "password", ciphemic.RoleTeacher)
	access, refresh := in.login(t, "testuser", "password")
	a, r := decodeSegment(t, access, 1), decodeSegment(t, refresh, 1)
	if a["token_type"] != "access" || r["token_type"] != "refresh" {
		t.Errorf("token_type = %v / %v, want access / refresh", a["token_type"], r["token_type"])
	}
	if a["user_id"] != float64(u.ID) || a["sub"] != "1" || r["user_id"] != float64(u.ID) {
		t.Errorf("user_id/sub = %v/%v, want %d/\"1\"", a["user_id"], a["sub"], u.ID)
	}
	if roles, _ := a["roles"].([]any); len(roles) != 1 || roles[0] != "teacher" {
		t.Errorf("roles = %v, want [teacher]", a["roles"])
	}
	if _, ok := r["roles"]; ok {
		t.Errorf("refresh token carries roles; want none")
	}
	if a["exp"].(float64)-a["iat"].(float64) != 300 || r["exp"].(float64)-r["iat"].(float64) != 86400 {
		t.Errorf("lifetimes = %v / %v, want 300 / 86400", a["exp"].(float64)-a["iat"].(float64), r["exp"].(float64)-r["iat"].(float64))
	}
	for _, claims := range []map[string]any{a, r} {
		jti, _ := claims["jti"].(string)
		if len(jti) != 32 || strings.Trim(jti, "0123456789abcdef") != "" {
			t.Errorf("jti = %q, want 32 lowercase hex chars", jti)
		}
	}
}

// TestDjangoHashLogin: users imported from Django log in with their Django password hashes,
// which are re-hashed to argon2id on that first successful login.
func TestDjangoHashLogin(t *testing.T) {
	raw, err := os.ReadFile("../password/testdata/django_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name, Encoded, Password string
			OK                      bool
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, options{})
	tested := 0
	for i, v := range file.Vectors {
		if !v.OK || !(strings.HasPrefix(v.Encoded, "pbkdf2_sha256$1000$") || strings.HasPrefix(v.Encoded, "bcrypt_sha256$")) {
			continue
		}
		tested++
		name := "django" + string(rune('a'+i))
		u := in.mustCreateUserWith(t, ciphemic.User{Username: name, PasswordHash: v.Encoded, Role: ciphemic.RoleStudent, IsActive: true}, "")
		wantStatusBody(t, in.postJSON(t, "/api/token/", map[string]string{"username": name, "password": "wrong"}), 401, bodyNoAccount)
		if got := mustUser(t, in, u.ID).PasswordHash; got != v.Encoded {
			t.Errorf("%s: a failed login changed the hash", v.Name)
		}
		in.login(t, name, v.Password)
		upgraded := mustUser(t, in, u.ID).PasswordHash
		if !strings.HasPrefix(upgraded, "argon2$argon2id$") {
			t.Errorf("%s: hash after login = %.20q…, want argon2id", v.Name, upgraded)
		}
		in.login(t, name, v.Password)
		if again := mustUser(t, in, u.ID).PasswordHash; again != upgraded {
			t.Errorf("%s: an argon2id hash at current params was re-hashed again", v.Name)
		}
	}
	if tested < 2 {
		t.Fatalf("tested %d Django vectors, want pbkdf2_sha256 and bcrypt_sha256", tested)
	}
}

func mustUser(t *testing.T, in *instance, id int64) ciphemic.User {
	t.Helper()
	u, err := in.db.User(t.Context(), id)
	if err != nil {
		t.Fatalf("User(%d): %v", id, err)
	}
	return u
}
