package password

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// djangoVector is one hash made by the real Django 3.2 (with argon2-cffi and bcrypt), by
// testdata/gen_django_vectors.py, which also checks each with Django's check_password.
type djangoVector struct {
	Name        string `json:"name"`
	Encoded     string `json:"encoded"`
	Password    string `json:"password"`
	Wrong       string `json:"wrong"`
	OK          bool   `json:"ok"`
	NeedsRehash bool   `json:"needs_rehash"` // for a Hasher with DefaultParams
	Err         string `json:"err"`          // "" or "unsupported"
}

// slow reports whether v has Django's default costs (argon2 100 MiB, bcrypt 2^12, pbkdf2
// 260,000 iterations), which take seconds under the race detector: it is verified once,
// and only without -race.
func (v djangoVector) slow() bool {
	return strings.Contains(v.Name, "Django")
}

func mustDjangoVectors(t testing.TB) []djangoVector {
	t.Helper()
	b, err := os.ReadFile("testdata/django_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []djangoVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 15 {
		t.Fatalf("testdata/django_vectors.json has %d vectors, want at least 15", len(file.Vectors))
	}
	return file.Vectors
}

func TestVerifyDjangoVectors(t *testing.T) {
	h := NewHasher(DefaultParams)
	for _, v := range mustDjangoVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			if v.slow() && raceEnabled {
				t.Skip("Django's default costs take seconds under -race; the cheap vectors take the same path")
			}
			ok, rehash, err := h.Verify(v.Encoded, v.Password)
			if v.Err != "" {
				if !errors.Is(err, errUnsupported) || ok {
					t.Fatalf("Verify(%q) = %v, %v, %v; want an unsupported error", v.Encoded, ok, rehash, err)
				}
				return
			}
			if ok != v.OK || rehash != v.NeedsRehash || err != nil {
				t.Errorf("Verify(%q, right password) = %v, %v, %v; want %v, %v, nil",
					v.Encoded, ok, rehash, err, v.OK, v.NeedsRehash)
			}
			if v.slow() {
				return // the wrong password takes the same path as in the cheap vectors
			}
			ok, rehash, err = h.Verify(v.Encoded, v.Wrong)
			if ok || rehash || err != nil {
				t.Errorf("Verify(%q, wrong password) = %v, %v, %v; want false, false, nil", v.Encoded, ok, rehash, err)
			}
		})
	}
}

// TestDjangoVectorsCover guards the vector file: each format the package promises to read
// must stay represented, so a regenerated file cannot silently drop one.
func TestDjangoVectorsCover(t *testing.T) {
	want := map[string]bool{
		"pbkdf2_sha256$260000$": false, "pbkdf2_sha1$": false, "argon2$argon2id$v=19$": false,
		"argon2$argon2i$v=19$": false, "bcrypt_sha256$$2b$": false, "bcrypt$$2b$": false, "!": false,
		"argon2$argon2id$v=19$m=19456,t=2,p=1$": false,
	}
	for _, v := range mustDjangoVectors(t) {
		for prefix := range want {
			if strings.HasPrefix(v.Encoded, prefix) && v.OK == (prefix != "!") {
				want[prefix] = true
			}
		}
	}
	for prefix, found := range want {
		if !found {
			t.Errorf("no vector with prefix %q", prefix)
		}
	}
}

// TestVerifyMutatedDjangoHash checks that each part of a stored hash takes part in the
// comparison: a changed salt, hash, cost or algorithm must give no match.
func TestVerifyMutatedDjangoHash(t *testing.T) {
	h := NewHasher(cheapParams)
	type mutated struct{ name, encoded, password string }
	vectors := mustDjangoVectors(t)
	pbkdf2 := mustFindVector(t, vectors, "pbkdf2_sha256 1000")
	bcryptSHA := mustFindVector(t, vectors, "bcrypt_sha256 5")
	tests := []mutated{
		{"pbkdf2 salt", strings.Replace(pbkdf2.Encoded, "$1000$", "$1000$x", 1), pbkdf2.Password},
		{"pbkdf2 iterations", strings.Replace(pbkdf2.Encoded, "$1000$", "$1001$", 1), pbkdf2.Password},
		{"bcrypt_sha256 as bcrypt", strings.TrimPrefix(bcryptSHA.Encoded, "bcrypt_sha256"), bcryptSHA.Password},
	}
	tests[2].encoded = "bcrypt" + tests[2].encoded
	for _, v := range vectors {
		if v.OK && !v.slow() {
			b := []byte(v.Encoded)
			i := len(b) - 5 // a character of the hash that holds 6 bits of it
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			tests = append(tests, mutated{v.Name, string(b), v.Password})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, _, _ := h.Verify(tt.encoded, tt.password); ok {
				t.Errorf("Verify(%q, %q) = true, want false", tt.encoded, tt.password)
			}
		})
	}
}

func mustFindVector(t *testing.T, vectors []djangoVector, name string) djangoVector {
	t.Helper()
	for _, v := range vectors {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no Django vector named %q", name)
	return djangoVector{}
}
