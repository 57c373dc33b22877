package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

func TestKeysRotate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "EdDSA", "--out", file)
	first := mustLoadKeySet(t, file).Current()
	out := mustRunCmd(t, "keys", "rotate", "--signing-key-file", file)
	second := mustLoadKeySet(t, file).Current()
	if second.ID == first.ID || second.Algorithm != "EdDSA" || !strings.Contains(out, second.ID) {
		t.Fatalf("keys rotate: %q; current key %s %s, want a new EdDSA key named in the output", out, second.Algorithm, second.ID)
	}
	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file, "--algorithm", "ES256")
	ring := mustReadRing(t, file)
	if len(ring) != 2 || ring[0].Key.ID != second.ID || ring[1].Key.ID != first.ID {
		t.Errorf("after two rotations the ring holds %d keys, want 2: the second key, then the first", len(ring))
	}
	if ks := mustLoadKeySet(t, file); ks.Current().Algorithm != "ES256" {
		t.Errorf("current key after rotate --algorithm ES256 is %s", ks.Current().Algorithm)
	}
	for _, path := range []string{file, token.KeyRingPath(file)} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", filepath.Base(path), fi.Mode().Perm(), err)
		}
	}
	bad := [][]string{
		{"keys", "rotate"},
		{"keys", "rotate", "--signing-key-file", filepath.Join(t.TempDir(), "missing")},
		{"keys", "rotate", "--signing-key-file", file, "--algorithm", "none"},
		{"keys", "rotate", "--signing-key-file", file, "--current-algorithm", "RS256"},
		{"keys", "rotate", "--signing-key-file", file, "--refresh-token-lifetime", "0s"},
		{"keys", "frobnicate"},
	}
	for _, args := range bad {
		if _, _, err := runCmd(t, nil, "", args...); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v = %v, want a one-line error", args, err)
		}
	}
}

// TestKeysRotatePrunes: `keys rotate` drops ring keys retired longer ago than the refresh
// lifetime plus leeway.
func TestKeysRotatePrunes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "HS256", "--out", file)
	stale := mustGeneratedKey(t, "HS256")
	mustWriteRing(t, file, token.RetiredKey{Key: stale, RetiredAt: time.Now().Add(-3 * time.Hour)})
	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file, "--refresh-token-lifetime", "4h")
	if ring := mustReadRing(t, file); len(ring) != 2 {
		t.Errorf("ring of %d keys, want 2 (the key retired 3h ago is within 4h)", len(ring))
	}
	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file, "--refresh-token-lifetime", "1h")
	ring := mustReadRing(t, file)
	if len(ring) != 2 || slices.ContainsFunc(ring, func(rk token.RetiredKey) bool { return rk.Key.ID == stale.ID }) {
		t.Errorf("ring of %d keys, want 2 without the key retired 3h ago", len(ring))
	}
}

// TestKeyReloaderPoll: the poller loads a rotation once, ignores unchanged files, and keeps
// the keys in force when the files are bad, logging why without the secret.
func TestKeyReloaderPoll(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	secret := "a-secret-that-is-long-enough-for-hs256-0123456789"
	mustWrite(t, file, secret)
	tokens := mustTokenService(t, file)
	var logs bytes.Buffer
	r := newKeyReloader(file, "HS256", token.Retirement{Retention: time.Hour}, tokens, slog.New(slog.NewTextHandler(&logs, nil)))
	before, _, err := tokens.IssueAccess(1, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.poll() {
		t.Error("poll() = true with unchanged files, want false")
	}
	next, _, err := token.RotateKeyFile(file, "HS256", "", time.Now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !r.poll() || tokens.Keys().Current().ID != next.ID {
		t.Fatalf("poll() after a rotation: current key %s, want %s", tokens.Keys().Current().ID, next.ID)
	}
	if r.poll() {
		t.Error("poll() = true again without a change, want false")
	}
	short := "short-secret"
	mustWrite(t, file, short)
	if r.poll() || tokens.Keys().Current().ID != next.ID {
		t.Errorf("poll() of a bad key file replaced the keys, want the keys in force kept")
	}
	if !strings.Contains(logs.String(), "not reloaded") || strings.Contains(logs.String(), short) || strings.Contains(logs.String(), secret) {
		t.Errorf("log = %q, want the failure logged without a secret", logs.String())
	}
	if _, err := tokens.Parse(before, token.TypeAccess); err != nil {
		t.Errorf("token of the key retired by the rotation = %v after a failed reload, want it verified", err)
	}
}

// TestKeyReloaderSIGHUP: a signal reloads at once, whatever the files' times, with polling
// off.
func TestKeyReloaderSIGHUP(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustWrite(t, file, "a-secret-that-is-long-enough-for-hs256-0123456789")
	tokens := mustTokenService(t, file)
	r := newKeyReloader(file, "HS256", token.Retirement{Retention: time.Hour}, tokens, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal)
	done := make(chan struct{})
	go func() { r.run(ctx, 0, hup); close(done) }()
	next, _, err := token.RotateKeyFile(file, "HS256", "", time.Now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hup <- nil // received only by run: the reload has started once the send returns
	hup <- nil // and has finished once the second send returns
	cancel()
	<-done
	if got := tokens.Keys().Current().ID; got != next.ID {
		t.Errorf("after SIGHUP the current key is %s, want %s", got, next.ID)
	}
}

// TestKeyRotationWithoutRestart: `keys rotate` on a running server's key file takes
// effect without a restart; tokens signed before the rotations keep working; the JWKS
// lists the current and previous keys.
func TestKeyRotationWithoutRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "EdDSA", "--out", file)
	s := startServer(t, "", "--algorithm", "EdDSA", "--signing-key-file", file, "--key-reload-interval", "20ms")
	_, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	access, refresh := pair["access"].(string), pair["refresh"].(string)
	kid0 := tokenKID(t, access)

	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file)
	kid1 := mustLoadKeySet(t, file).Current().ID
	waitForKIDs(t, s, kid1, kid0)
	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file, "--algorithm", "ES256")
	kid2 := mustLoadKeySet(t, file).Current().ID
	waitForKIDs(t, s, kid2, kid1, kid0)
	if ring := mustReadRing(t, file); len(ring) != 2 {
		t.Errorf("ring holds %d keys after two rotations, want 2", len(ring))
	}

	if status, body := s.get(t, "/api/me/", access); status != 200 {
		t.Errorf("access token signed before the rotations = %d %v, want 200", status, body)
	}
	status, next := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, "")
	if status != 200 {
		t.Fatalf("refresh token signed before the rotations = %d %v, want 200", status, next)
	}
	if kid := tokenKID(t, next["access"].(string)); kid != kid2 {
		t.Errorf("token issued after the rotations has kid %s, want the current %s", kid, kid2)
	}
}

// TestPrunedKeyRefusedAfterReload: a ring key retired longer ago than the refresh lifetime
// plus leeway is dropped on reload, and a token it signed is refused, while a token of a
// recently retired key of the same ring verifies.
func TestPrunedKeyRefusedAfterReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "HS256", "--out", file)
	s := startServer(t, "", "--signing-key-file", file, "--key-reload-interval", "20ms", "--refresh-token-lifetime", "1h")
	_, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	_, me := s.get(t, "/api/me/", pair["access"].(string))
	adminID := int64(me["id"].(float64))

	recent, stale := mustGeneratedKey(t, "HS256"), mustGeneratedKey(t, "HS256")
	// Each token is signed before its key's retirement and has not expired.
	now := time.Now()
	recentToken := mustSignAccess(t, recent, adminID, now.Add(-31*time.Minute), time.Hour)
	staleToken := mustSignAccess(t, stale, adminID, now.Add(-181*time.Minute), 4*time.Hour)
	mustWriteRing(t, file,
		token.RetiredKey{Key: recent, RetiredAt: now.Add(-30 * time.Minute)},
		token.RetiredKey{Key: stale, RetiredAt: now.Add(-3 * time.Hour)})
	waitFor(t, "the recently retired key to verify", func() bool {
		status, _ := s.get(t, "/api/me/", recentToken)
		return status == 200
	})
	if status, _ := s.get(t, "/api/me/", staleToken); status != 401 {
		t.Errorf("token of a key retired 3h ago (refresh lifetime 1h) = %d, want 401", status)
	}
}

// TestRetiredKeyEndsWithoutSIGHUP: after `keys rotate`, a token forged with the old key and
// a fresh iat is refused once the reload interval has passed, while the tokens issued
// before the rotation keep working; and once the old key's retention has passed it is
// refused and leaves the JWKS, with no SIGHUP and no change to the files.
func TestRetiredKeyEndsWithoutSIGHUP(t *testing.T) {
	const interval = 100 * time.Millisecond
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "EdDSA", "--out", file)
	old := mustLoadKeySet(t, file).Current()
	s := startServer(t, "", "--algorithm", "EdDSA", "--signing-key-file", file,
		"--key-reload-interval", interval.String(), "--refresh-token-lifetime", "30s")
	_, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	access, refresh := pair["access"].(string), pair["refresh"].(string)
	_, me := s.get(t, "/api/me/", access)
	adminID := int64(me["id"].(float64))

	mustRunCmd(t, "keys", "rotate", "--signing-key-file", file, "--refresh-token-lifetime", "30s")
	current := mustLoadKeySet(t, file).Current().ID
	waitForKIDs(t, s, current, old.ID)
	if status, body := s.get(t, "/api/me/", access); status != 200 {
		t.Errorf("access token issued before the rotation = %d %v, want 200", status, body)
	}
	if status, body := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, ""); status != 200 {
		t.Errorf("refresh token issued before the rotation = %d %v, want 200", status, body)
	}
	// iat counts whole seconds: the first one after the retirement plus the interval.
	retiredAt := mustReadRing(t, file)[0].RetiredAt
	sleepUntil(retiredAt.Add(interval).Truncate(time.Second).Add(time.Second))
	forged := mustSignAccess(t, old, adminID, time.Now(), time.Hour)
	if status, body := s.get(t, "/api/me/", forged); status != 401 {
		t.Errorf("admin token forged with the retired key, fresh iat = %d %v, want 401", status, body)
	}

	// Move the retirement back so that the retention ends in a moment, then leave the files.
	retention := keyRetention(tokenSettings{refreshLifetime: 30 * time.Second})
	retiredAt = time.Now().Add(2*time.Second - retention)
	backdated := mustSignAccess(t, old, adminID, retiredAt.Add(-time.Second), time.Hour)
	reloads := strings.Count(s.logText(), "signing keys reloaded")
	mustWriteRing(t, file, token.RetiredKey{Key: old, RetiredAt: retiredAt})
	waitFor(t, "the rewritten ring to load", func() bool { return strings.Count(s.logText(), "signing keys reloaded") > reloads })
	if status, body := s.get(t, "/api/me/", backdated); status != 200 {
		t.Errorf("token of the retired key dated before its retirement, within the retention = %d %v, want 200", status, body)
	}
	ring, _ := os.Stat(token.KeyRingPath(file))
	end := retiredAt.Add(retention)
	waitFor(t, "the retired key to be refused", func() bool {
		status, _ := s.get(t, "/api/me/", backdated)
		if answered := time.Now(); status == 401 && answered.Before(end) {
			t.Fatalf("token of the retired key refused %v before the retention ended", end.Sub(answered))
		}
		return status == 401
	})
	waitForKIDs(t, s, current)
	if now, _ := os.Stat(token.KeyRingPath(file)); changed(ring, now) {
		t.Error("the ring changed while waiting for the retention to end")
	}
}

// sleepUntil sleeps until t.
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// TestCorruptKeyFileKeepsServing: a key file that turns bad is logged, and the server goes
// on with the keys it had.
func TestCorruptKeyFileKeepsServing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing.key")
	mustRunCmd(t, "keys", "generate", "--algorithm", "HS256", "--out", file)
	s := startServer(t, "", "--signing-key-file", file, "--key-reload-interval", "20ms")
	login := `{"username":"admin","password":"` + s.adminPW + `"}`
	_, pair := s.post(t, "/api/token/", login, "")
	kid := tokenKID(t, pair["access"].(string))

	garbage := "not-a-key-but-a-secret-looking-string"
	mustWrite(t, file+".previous", "-----BEGIN CIPHEMIC HMAC KEY-----\n"+garbage)
	waitFor(t, "the bad ring to be logged", func() bool { return strings.Count(s.logText(), "not reloaded") >= 1 })
	mustWrite(t, file, "short")
	waitFor(t, "the bad key file to be logged", func() bool { return strings.Count(s.logText(), "not reloaded") >= 2 })

	if status, _ := s.get(t, "/api/me/", pair["access"].(string)); status != 200 {
		t.Errorf("token after a bad reload = %d, want 200", status)
	}
	status, again := s.post(t, "/api/token/", login, "")
	if status != 200 || tokenKID(t, again["access"].(string)) != kid {
		t.Errorf("login after a bad reload = %d, want 200 signed by the key in force", status)
	}
	if log := s.logText(); strings.Contains(log, garbage) {
		t.Error("the content of the bad key file reached the log")
	}
}

func waitForKIDs(t *testing.T, s *server, kids ...string) {
	t.Helper()
	waitFor(t, "the JWKS to list "+strings.Join(kids, ", "), func() bool {
		resp, err := http.Get(s.url + "/.well-known/jwks.json")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var set struct{ Keys []struct{ Kid string } }
		if json.NewDecoder(resp.Body).Decode(&set) != nil || len(set.Keys) != len(kids) {
			return false
		}
		for i, k := range set.Keys {
			if k.Kid != kids[i] {
				return false
			}
		}
		return true
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func tokenKID(t *testing.T, raw string) string {
	t.Helper()
	head, _, _ := strings.Cut(raw, ".")
	data, err := base64.RawURLEncoding.DecodeString(head)
	var h struct{ Kid string }
	if err != nil || json.Unmarshal(data, &h) != nil {
		t.Fatalf("token header %q is not base64url JSON", head)
	}
	return h.Kid
}

func mustRunCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, _, err := runCmd(t, nil, "", args...)
	if err != nil {
		t.Fatalf("%v = %v", args, err)
	}
	return out
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustLoadKeySet(t *testing.T, file string) *token.KeySet {
	t.Helper()
	ks, err := token.LoadKeySet(file, "HS256", time.Now(), token.Retirement{Retention: 24 * time.Hour})
	if err != nil {
		t.Fatalf("LoadKeySet(%s) = %v", filepath.Base(file), err)
	}
	return ks
}

func mustReadRing(t *testing.T, file string) []token.RetiredKey {
	t.Helper()
	data, err := os.ReadFile(token.KeyRingPath(file))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := token.ParseKeyRing(data)
	if err != nil {
		t.Fatalf("ParseKeyRing = %v", err)
	}
	return ring
}

func mustWriteRing(t *testing.T, file string, ring ...token.RetiredKey) {
	t.Helper()
	data, err := token.MarshalKeyRing(ring)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, token.KeyRingPath(file), string(data))
}

func mustGeneratedKey(t *testing.T, alg string) *token.Key {
	t.Helper()
	content, err := token.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	k, err := token.ParseKey(alg, content)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustTokenService(t *testing.T, file string) *token.Service {
	t.Helper()
	s, err := token.NewService(mustLoadKeySet(t, file), token.Config{AccessLifetime: time.Minute, RefreshLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustSignAccess signs an admin access token of userID issued at at with k alone, as an
// instance that still had k as its current key would have (or someone holding k).
func mustSignAccess(t *testing.T, k *token.Key, userID int64, at time.Time, lifetime time.Duration) string {
	t.Helper()
	ks, err := token.NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewService(ks, token.Config{AccessLifetime: lifetime, RefreshLifetime: lifetime})
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := s.IssueAccess(userID, []ciphemic.Role{ciphemic.RoleAdmin}, at)
	if err != nil {
		t.Fatalf("IssueAccess(%s) = %v", strconv.FormatInt(userID, 10), err)
	}
	return raw
}
