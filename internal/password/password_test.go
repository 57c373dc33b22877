package password

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cheapParams keep most tests fast; DefaultParams appear only where a test is about them.
var cheapParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustHash(t testing.TB, h *Hasher, password string) string {
	t.Helper()
	encoded, err := h.Hash(password)
	if err != nil {
		t.Fatalf("Hash(%q): %v", password, err)
	}
	return encoded
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams)
	encoded := mustHash(t, h, "lètmein")
	// Django's Argon2PasswordHasher with argon2-cffi: unpadded standard base64, a 16-byte
	// salt (22 characters) and a 32-byte hash (43 characters).
	want := regexp.MustCompile(`^argon2\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !want.MatchString(encoded) {
		t.Errorf("Hash() = %q, want it to match %v", encoded, want)
	}
	if other := mustHash(t, h, "lètmein"); other == encoded {
		t.Errorf("Hash() twice = %q both times, want different salts", encoded)
	}
}

func TestHashRoundTrip(t *testing.T) {
	for _, p := range []Params{cheapParams, DefaultParams, {Memory: 256, Time: 3, Threads: 4, SaltLen: 8, KeyLen: 4}} {
		h := NewHasher(p)
		passwords := []string{"lètmein", "", "пароль密码🔑", strings.Repeat("long", 100)}
		if p == DefaultParams {
			passwords = passwords[:1] // what the cheap params check is not about the costs
		}
		for _, pw := range passwords {
			t.Run(fmt.Sprintf("%+v/%q", p, pw), func(t *testing.T) {
				encoded := mustHash(t, h, pw)
				if ok, rehash, err := h.Verify(encoded, pw); !ok || rehash || err != nil {
					t.Errorf("Verify(Hash(%q), %q) = %v, %v, %v; want true, false, nil", pw, pw, ok, rehash, err)
				}
				if ok, rehash, err := h.Verify(encoded, pw+"x"); ok || rehash || err != nil {
					t.Errorf("Verify(Hash(%q), %q) = %v, %v, %v; want false, false, nil", pw, pw+"x", ok, rehash, err)
				}
			})
		}
	}
}

func TestVerifyNeedsRehashOtherParams(t *testing.T) {
	h := NewHasher(cheapParams)
	others := []Params{
		{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16},
	}
	for _, p := range others {
		encoded := mustHash(t, NewHasher(p), "lètmein")
		if ok, rehash, err := h.Verify(encoded, "lètmein"); !ok || !rehash || err != nil {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, true, nil", encoded, ok, rehash, err)
		}
	}
	// A longer salt is no weakness: Django's own are 22 bytes.
	longSalt := mustHash(t, NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 24, KeyLen: 32}), "x")
	if ok, rehash, err := h.Verify(longSalt, "x"); !ok || rehash || err != nil {
		t.Errorf("Verify(%q) = %v, %v, %v; want true, false, nil", longSalt, ok, rehash, err)
	}
}

// TestVerifyNeedsRehashArgon2i builds an argon2i hash at exactly h's costs, so only the
// variant differs.
func TestVerifyNeedsRehashArgon2i(t *testing.T) {
	h := NewHasher(cheapParams)
	a := &argon2Hash{variant: argon2i, version: argon2Version, memory: 64, time: 1, threads: 1,
		salt: []byte("0123456789abcdef"), key: make([]byte, 32)}
	a.key = deriveArgon2(a, []byte("lètmein"))
	if ok, rehash, err := h.Verify(a.encode(), "lètmein"); !ok || !rehash || err != nil {
		t.Errorf("Verify(%q) = %v, %v, %v; want true, true, nil", a.encode(), ok, rehash, err)
	}
}

// countingKDF replaces h's argon2 with one that records the parameters of every call.
func countingKDF(h *Hasher) *[]argon2Hash {
	var mu sync.Mutex
	calls := new([]argon2Hash)
	inner := h.kdf
	h.kdf = func(a *argon2Hash, password []byte) []byte {
		mu.Lock()
		*calls = append(*calls, *a)
		mu.Unlock()
		return inner(a, password)
	}
	return calls
}

// TestVerifyDummyCost checks, without timing anything, that VerifyDummy and the verification
// of an unusable or empty hash do the work of a wrong-password verification: one argon2id
// with h's parameters.
func TestVerifyDummyCost(t *testing.T) {
	h := NewHasher(cheapParams)
	calls := countingKDF(h)
	stored := mustHash(t, h, "right")
	tests := []struct {
		name string
		run  func()
	}{
		{"wrong password", func() { h.Verify(stored, "wrong") }},
		{"VerifyDummy", func() { h.VerifyDummy("wrong") }},
		{"unusable", func() { h.Verify("!LjWSxqKamKjyETArRe9jEsDiuitWme7UTcMfHDoR", "wrong") }},
		{"empty", func() { h.Verify("", "wrong") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*calls = nil
			tt.run()
			if len(*calls) != 1 {
				t.Fatalf("%s ran argon2 %d times, want 1", tt.name, len(*calls))
			}
			if c := (*calls)[0]; !h.current(&c) {
				t.Errorf("%s ran argon2 with %s, want h's params %+v", tt.name, c.encode(), h.params)
			}
		})
	}
}

func TestVerifyUnusable(t *testing.T) {
	h := NewHasher(cheapParams)
	for _, encoded := range []string{"", "!", "!LjWSxqKamKjyETArRe9jEsDiuitWme7UTcMfHDoR", "!" + mustHash(t, h, "x")} {
		if ok, rehash, err := h.Verify(encoded, "x"); ok || rehash || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want false, false, nil", encoded, "x", ok, rehash, err)
		}
	}
}

func TestVerifyDummyNeverMatches(t *testing.T) {
	h := NewHasher(cheapParams)
	for _, pw := range []string{"", "password", h.dummy} {
		if ok, _, _ := h.Verify(h.dummy, pw); ok {
			t.Errorf("Verify(dummy, %q) = true, want false", pw)
		}
	}
}

func TestNewHasherRejectsBadParams(t *testing.T) {
	tests := map[string]Params{
		"no time":           {Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		"no threads":        {Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		"memory < 8×p":      {Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"short salt":        {Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32},
		"short key":         {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 3},
		"over memory limit": {Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"over time limit":   {Memory: 64, Time: 101, Threads: 1, SaltLen: 16, KeyLen: 32},
		"over work limit":   {Memory: 1 << 20, Time: 5, Threads: 1, SaltLen: 16, KeyLen: 32},
		"huge key":          {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 1 << 30},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p)
		})
	}
}

func TestHasherConcurrent(t *testing.T) {
	h := NewHasher(cheapParams)
	stored := mustHash(t, h, "shared")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			pw := fmt.Sprint("pw", i)
			encoded, err := h.Hash(pw)
			if err != nil {
				t.Errorf("Hash(%q): %v", pw, err)
				return
			}
			if ok, _, _ := h.Verify(encoded, pw); !ok {
				t.Errorf("Verify(Hash(%q), %q) = false, want true", pw, pw)
			}
			if ok, _, _ := h.Verify(stored, "shared"); !ok {
				t.Errorf("Verify(stored, %q) = false, want true", "shared")
			}
			h.VerifyDummy(pw)
		})
	}
	wg.Wait()
}

// TestConcurrentHashesBounded: however many logins arrive at once, at most
// maxConcurrentHashes argon2 computations run together, so memory stays bounded.
func TestConcurrentHashesBounded(t *testing.T) {
	h := NewHasher(cheapParams)
	var running, peak atomic.Int32
	inner := h.kdf
	h.kdf = func(a *argon2Hash, password []byte) []byte {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		defer running.Add(-1)
		return inner(a, password)
	}
	hash, err := h.Hash("password")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 * maxConcurrentHashes() {
		wg.Go(func() { h.Verify(hash, "wrong") })
	}
	wg.Wait()
	if got, limit := int(peak.Load()), maxConcurrentHashes(); got > limit || got < 2 {
		t.Errorf("peak concurrent argon2 computations = %d, want 2..%d", got, limit)
	}
}
