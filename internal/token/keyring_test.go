package token

import (
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyRingRoundTrip(t *testing.T) {
	var ring []RetiredKey
	for i, alg := range allAlgs {
		ring = append(ring, RetiredKey{Key: mustKey(t, alg, 0), RetiredAt: t0.Add(-time.Duration(i) * time.Hour).Truncate(time.Second)})
	}
	data, err := MarshalKeyRing(ring)
	if err != nil {
		t.Fatalf("MarshalKeyRing = %v", err)
	}
	got, err := ParseKeyRing(data)
	if err != nil {
		t.Fatalf("ParseKeyRing(MarshalKeyRing(ring)) = %v", err)
	}
	if len(got) != len(ring) {
		t.Fatalf("ParseKeyRing gave %d keys, want %d", len(got), len(ring))
	}
	for i := range ring {
		w, g := ring[i], got[i]
		if g.Key.ID != w.Key.ID || g.Key.Algorithm != w.Key.Algorithm || !g.RetiredAt.Equal(w.RetiredAt) {
			t.Errorf("entry %d = %s %s %v, want %s %s %v", i, g.Key.Algorithm, g.Key.ID, g.RetiredAt, w.Key.Algorithm, w.Key.ID, w.RetiredAt)
		}
	}
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Headers[headerRetiredAt] == "" || block.Headers[headerAlgorithm] == "" {
			t.Errorf("block %s has headers %v, want Retired-At and Algorithm", block.Type, block.Headers)
		}
	}
	if empty, err := ParseKeyRing(nil); err != nil || len(empty) != 0 {
		t.Errorf("ParseKeyRing(empty) = %v, %v; want an empty ring", empty, err)
	}
}

// TestKeyRingVerifiesOldTokens: a token signed by a key keeps verifying once the key is
// in the ring, whatever its algorithm, and the new current key signs.
func TestKeyRingVerifiesOldTokens(t *testing.T) {
	for _, alg := range []string{"HS512", "ES256"} {
		old := mustKey(t, alg, 0)
		s := mustService(t, testConfig(), old)
		raw, _ := mustIssueAccess(t, s, t0)
		data, err := MarshalKeyRing([]RetiredKey{{Key: old, RetiredAt: t0}})
		if err != nil {
			t.Fatal(err)
		}
		ring, err := ParseKeyRing(data)
		if err != nil {
			t.Fatal(err)
		}
		s.SetKeys(mustKeySet(t, mustKey(t, "EdDSA", 1), ring[0].Key))
		if _, err := s.Parse(raw, TypeAccess); err != nil {
			t.Errorf("Parse(%s token signed before the rotation) = %v, want nil", alg, err)
		}
		fresh, _ := mustIssueAccess(t, s, t0)
		if !strings.HasPrefix(fresh, seg(`{"alg":"EdDSA"`)) {
			t.Errorf("token issued after the rotation is not signed by the new EdDSA key")
		}
	}
}

func TestParseKeyRingRefusesBadRings(t *testing.T) {
	good, err := MarshalKeyRing([]RetiredKey{{Key: mustKey(t, "HS256", 0), RetiredAt: t0}})
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(mustKeyFile(t, "HS256", 0)))
	short := pem.EncodeToMemory(&pem.Block{Type: pemTypeHMAC, Headers: map[string]string{headerAlgorithm: "HS256", headerRetiredAt: t0.Format(time.RFC3339)}, Bytes: []byte("short")})
	tests := map[string]string{
		"no Retired-At":      strings.Replace(string(good), headerRetiredAt, "Retired-Once", 1),
		"bad Retired-At":     strings.Replace(string(good), t0.UTC().Format(time.RFC3339Nano), "yesterday", 1),
		"HMAC without alg":   strings.Replace(string(good), headerAlgorithm+": HS256", headerAlgorithm+": none", 1),
		"truncated":          string(good[:len(good)/2]),
		"trailing garbage":   string(good) + "garbage",
		"short secret":       string(short),
		"unknown block type": strings.ReplaceAll(string(good), pemTypeHMAC, "CERTIFICATE"),
	}
	for name, data := range tests {
		_, err := ParseKeyRing([]byte(data))
		if err == nil {
			t.Errorf("ParseKeyRing(%s) = nil error, want one", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseKeyRing(%s) error %q holds the secret", name, err)
		}
	}
}

func TestParseKeyFile(t *testing.T) {
	for _, alg := range allAlgs {
		k := mustKey(t, alg, 0)
		content, err := MarshalKeyFile(k)
		if err != nil {
			t.Fatal(err)
		}
		// The flag names another algorithm: a file that names its own wins.
		got, err := ParseKeyFile("HS256", content)
		if err != nil || got.ID != k.ID || got.Algorithm != alg {
			t.Errorf("ParseKeyFile(MarshalKeyFile(%s key)) = %v, %v; want kid %s", alg, got, err, k.ID)
		}
		if alg == "HS256" {
			continue
		}
		// A file of `keys generate` (raw secret or plain PKCS#8) still reads as before.
		raw, err := ParseKeyFile(alg, mustKeyFile(t, alg, 0))
		if err != nil || raw.ID != k.ID {
			t.Errorf("ParseKeyFile(%s, generated file) = %v, %v; want kid %s", alg, raw, err, k.ID)
		}
	}
	secret := []byte("0123456789abcdef0123456789abcdef\n")
	for _, alg := range []string{"HS256", "HS384"} {
		got, err := ParseKeyFile(alg, secret)
		want, _ := ParseKey(alg, secret)
		if err != nil || got.ID != want.ID || got.Algorithm != alg {
			t.Errorf("ParseKeyFile(%s, raw secret) = %v, %v; want the raw secret as ParseKey reads it", alg, got, err)
		}
	}
}

func TestPruneRetired(t *testing.T) {
	maxAge := 24 * time.Hour
	ring := []RetiredKey{
		{Key: mustKey(t, "HS256", 0), RetiredAt: t0.Add(-time.Hour)},
		{Key: mustKey(t, "EdDSA", 0), RetiredAt: t0.Add(-maxAge)},               // exactly at the limit: kept
		{Key: mustKey(t, "ES256", 0), RetiredAt: t0.Add(-maxAge - time.Second)}, // past it: dropped
		{Key: mustKey(t, "HS512", 0), RetiredAt: t0.Add(time.Minute)},           // a clock ahead of ours
	}
	got := PruneRetired(ring, t0, maxAge)
	var algs []string
	for _, rk := range got {
		algs = append(algs, rk.Key.Algorithm)
	}
	if strings.Join(algs, ",") != "HS256,EdDSA,HS512" {
		t.Errorf("PruneRetired kept %v, want [HS256 EdDSA HS512]", algs)
	}
}

func TestRotateKeyFile(t *testing.T) {
	for _, tc := range []struct{ from, to string }{{"HS256", ""}, {"ES256", "EdDSA"}, {"HS384", "ES256"}, {"RS256", "HS512"}} {
		t.Run(tc.from+"-"+tc.to, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "signing.key")
			mustWriteFile(t, file, mustKeyFile(t, tc.from, 0))
			first := mustKey(t, tc.from, 0)
			maxAge := 24 * time.Hour

			k1, ring, err := RotateKeyFile(file, tc.from, tc.to, fixedClock(t0), maxAge)
			if err != nil {
				t.Fatalf("RotateKeyFile = %v", err)
			}
			wantAlg := tc.to
			if wantAlg == "" {
				wantAlg = tc.from
			}
			if k1.Algorithm != wantAlg || len(ring) != 1 || ring[0].Key.ID != first.ID {
				t.Fatalf("RotateKeyFile = %s key, ring %v; want a %s key, the old key in the ring", k1.Algorithm, ring, wantAlg)
			}
			k2, ring, err := RotateKeyFile(file, "HS256", "", fixedClock(t0.Add(time.Hour)), maxAge)
			if err != nil || len(ring) != 2 || ring[0].Key.ID != k1.ID || ring[1].Key.ID != first.ID {
				t.Fatalf("second RotateKeyFile = %v, ring of %d; want the two old keys, newest first", err, len(ring))
			}
			mustMode0600(t, file)
			mustMode0600(t, KeyRingPath(file))

			ks, err := LoadKeySet(file, "HS256", t0.Add(time.Hour), Retirement{Retention: maxAge})
			if err != nil {
				t.Fatalf("LoadKeySet = %v", err)
			}
			if ks.Current().ID != k2.ID || len(ks.byID) != 3 {
				t.Errorf("LoadKeySet: current %s and %d keys, want %s and 3", ks.Current().ID, len(ks.byID), k2.ID)
			}
			// A day later the first key, retired at t0, is pruned on load and on rotation.
			later := t0.Add(maxAge + time.Minute)
			if ks, err := LoadKeySet(file, "HS256", later, Retirement{Retention: maxAge}); err != nil || len(ks.byID) != 2 {
				t.Errorf("LoadKeySet a day later = %v; want the first key pruned", err)
			} else if _, ok := ks.key(first.ID); ok {
				t.Error("LoadKeySet kept a key retired longer ago than maxAge")
			}
			if _, ring, err := RotateKeyFile(file, "HS256", "", fixedClock(later), maxAge); err != nil || len(ring) != 2 {
				t.Errorf("RotateKeyFile a day later: ring of %d, %v; want 2 (the first key pruned)", len(ring), err)
			}
			entries, _ := os.ReadDir(filepath.Dir(file))
			if len(entries) != 2 {
				t.Errorf("directory holds %d files, want the key file and its ring (no temporary files)", len(entries))
			}
		})
	}
}

// TestPrunedKeyRefused: once a key is pruned, a token it signed is refused, even one that
// has not expired (a token of a pruned key cannot exist unless the clock or the lifetime
// changed, and a dropped key must not verify anything).
func TestPrunedKeyRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustWriteFile(t, file, mustKeyFile(t, "HS256", 0))
	old := mustService(t, testConfig(), mustKey(t, "HS256", 0))
	raw, _ := mustIssueAccess(t, old, t0)
	if _, _, err := RotateKeyFile(file, "HS256", "", fixedClock(t0), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t0.Add(time.Hour), true}, {t0.Add(time.Hour + time.Second), false}} {
		ks, err := LoadKeySet(file, "HS256", tc.at, Retirement{Retention: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		s := mustService(t, testConfig(), ks.Current())
		s.SetKeys(ks)
		_, err = s.Parse(raw, TypeAccess)
		if (err == nil) != tc.want {
			t.Errorf("Parse(token of a key retired %v ago, maxAge 1h) = %v, want ok=%v", tc.at.Sub(t0), err, tc.want)
		}
	}
}

// TestRetiredKeyMintsNothing: a token of a retired key is refused when it was issued after
// the retirement plus the lag (an instance picking the rotation up late) plus the leeway,
// the moment the key set holds the ring, as a restarted server's does.
func TestRetiredKeyMintsNothing(t *testing.T) {
	const lag, leeway = 5 * time.Second, 2 * time.Second
	old, s, clock := mustRotatedService(t, Retirement{Retention: time.Hour, Lag: lag}, leeway)
	holder := mustService(t, testConfig(), old) // an instance not yet reloaded, or a thief
	limit := t0.Add(lag + leeway)               // 12:00:07.456
	for _, tc := range []struct {
		name string
		iat  time.Time
		want bool
	}{
		{"before the retirement", t0.Add(-time.Minute), true},
		{"at the retirement", t0, true},
		{"within lag and leeway", limit, true}, // iat 12:00:07
		{"after lag and leeway", limit.Add(time.Second), false},
		{"a day later", t0.Add(24 * time.Hour), false},
	} {
		*clock = tc.iat.Add(time.Second)
		raw, _ := mustIssueAccess(t, holder, tc.iat)
		if _, err := s.Parse(raw, TypeAccess); (err == nil) != tc.want {
			t.Errorf("Parse(token of the retired key issued %v after its retirement, %s) = %v, want ok=%v", tc.iat.Sub(t0), tc.name, err, tc.want)
		}
	}
	fresh, _ := mustIssueAccess(t, s, t0.Add(24*time.Hour))
	if _, err := s.Parse(fresh, TypeAccess); err != nil {
		t.Errorf("Parse(token of the current key a day after the rotation) = %v, want nil", err)
	}
}

// TestRetiredKeyEndsAtRetention: a token of a retired key verifies until the retention has
// passed and not a second longer, though it has not expired and the key set is the one
// loaded before; Prune then takes the key out of the set and its JWKS.
func TestRetiredKeyEndsAtRetention(t *testing.T) {
	old, s, clock := mustRotatedService(t, Retirement{Retention: time.Hour, Lag: time.Second}, 0)
	holder := mustService(t, Config{AccessLifetime: 48 * time.Hour, RefreshLifetime: 48 * time.Hour, Now: fixedClock(t0)}, old)
	raw, _ := mustIssueAccess(t, holder, t0.Add(-time.Second))
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t0.Add(time.Hour), true}, {t0.Add(time.Hour + time.Millisecond), false}, {t0.Add(30 * time.Hour), false}} {
		*clock = tc.at
		if _, err := s.Parse(raw, TypeAccess); (err == nil) != tc.want {
			t.Errorf("Parse(token of a key retired %v ago, retention 1h) = %v, want ok=%v", tc.at.Sub(t0), err, tc.want)
		}
	}
	if same, dropped := s.Keys().Prune(t0.Add(time.Hour)); same != s.Keys() || dropped != nil {
		t.Errorf("Prune within the retention dropped %v, want nothing", dropped)
	}
	pruned, dropped := s.Keys().Prune(t0.Add(time.Hour + time.Millisecond))
	if len(dropped) != 1 || dropped[0] != old.ID || len(pruned.byID) != 1 || pruned.Current() != s.Keys().Current() {
		t.Errorf("Prune past the retention = %d keys, dropped %v; want the current key alone, %s dropped", len(pruned.byID), dropped, old.ID)
	}
	if strings.Contains(string(pruned.JWKS()), old.ID) || !strings.Contains(string(s.Keys().JWKS()), old.ID) {
		t.Errorf("JWKS after Prune = %s, want it without the pruned %s", pruned.JWKS(), old.ID)
	}
}

// mustRotatedService rotates an EdDSA key file at t0 and returns the old key and a service
// of the key set LoadKeySet reads with r, whose clock is the returned variable.
func mustRotatedService(t *testing.T, r Retirement, leeway time.Duration) (*Key, *Service, *time.Time) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "signing.key")
	mustWriteFile(t, file, mustKeyFile(t, "EdDSA", 0))
	if _, _, err := RotateKeyFile(file, "EdDSA", "", fixedClock(t0), time.Hour); err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeySet(file, "EdDSA", t0, r)
	if err != nil {
		t.Fatalf("LoadKeySet = %v", err)
	}
	clock := t0
	cfg := testConfig()
	cfg.Leeway, cfg.Now = leeway, func() time.Time { return clock }
	s, err := NewService(ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return mustKey(t, "EdDSA", 0), s, &clock
}

func TestLoadKeySetSkipsCurrentInRing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	current := mustKey(t, "HS256", 0)
	mustWriteFile(t, file, mustKeyFile(t, "HS256", 0))
	ring, err := MarshalKeyRing([]RetiredKey{{Key: current, RetiredAt: t0}, {Key: current, RetiredAt: t0}})
	if err != nil {
		t.Fatal(err)
	}
	mustWriteFile(t, KeyRingPath(file), ring)
	ks, err := LoadKeySet(file, "HS256", t0, Retirement{Retention: time.Hour})
	if err != nil || ks.Current().ID != current.ID || len(ks.byID) != 1 {
		t.Errorf("LoadKeySet(ring holding the current key) = %v; want the current key once", err)
	}
}

func TestLoadKeySetErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeySet(filepath.Join(dir, "missing"), "HS256", t0, Retirement{Retention: time.Hour}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadKeySet(missing file) = %v, want fs.ErrNotExist", err)
	}
	if _, _, err := RotateKeyFile(filepath.Join(dir, "missing"), "HS256", "", fixedClock(t0), time.Hour); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RotateKeyFile(missing file) = %v, want fs.ErrNotExist", err)
	}
	file := filepath.Join(dir, "signing.key")
	mustWriteFile(t, file, mustKeyFile(t, "HS256", 0))
	mustWriteFile(t, KeyRingPath(file), []byte("-----BEGIN CIPHEMIC HMAC KEY-----\ncorrupt"))
	if _, err := LoadKeySet(file, "HS256", t0, Retirement{Retention: time.Hour}); err == nil {
		t.Error("LoadKeySet(corrupt ring) = nil error, want one")
	}
	if _, _, err := RotateKeyFile(file, "HS256", "", fixedClock(t0), time.Hour); err == nil {
		t.Error("RotateKeyFile(corrupt ring) = nil error, want one (and the key file untouched)")
	}
	if got, _ := os.ReadFile(file); string(got) != string(mustKeyFile(t, "HS256", 0)) {
		t.Error("a failed RotateKeyFile changed the key file")
	}
}

func mustWriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustMode0600(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o, want 600", filepath.Base(path), mode)
	}
}
