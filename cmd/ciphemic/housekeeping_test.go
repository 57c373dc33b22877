package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// mustHousekeepingUser creates a user to own the tokens of a housekeeping test.
func mustHousekeepingUser(t *testing.T, db *store.DB) int64 {
	t.Helper()
	u, err := db.CreateUser(context.Background(), ciphemic.User{
		Username: "owner", PasswordHash: "x", Role: ciphemic.RoleStudent, IsActive: true,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u.ID
}

// mustTokensExpiring records one refresh token of userID per expiry, named prefix-i.
func mustTokensExpiring(t *testing.T, db *store.DB, userID int64, prefix string, exps ...time.Time) {
	t.Helper()
	for i, exp := range exps {
		rt := ciphemic.RefreshToken{JTI: fmt.Sprintf("%s-%d", prefix, i), UserID: userID,
			IssuedAt: exp.Add(-time.Hour), ExpiresAt: exp}
		if err := db.CreateRefreshToken(context.Background(), rt); err != nil {
			t.Fatalf("CreateRefreshToken(%s): %v", rt.JTI, err)
		}
	}
}

// tokenExists reports whether db still holds the refresh token jti.
func tokenExists(t *testing.T, db *store.DB, jti string) bool {
	t.Helper()
	_, err := db.RefreshToken(context.Background(), jti)
	if err != nil && ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		t.Fatalf("RefreshToken(%s): %v", jti, err)
	}
	return err == nil
}

// waitGone waits until db no longer holds jti.
func waitGone(t *testing.T, db *store.DB, jti string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); tokenExists(t, db, jti); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("refresh token %s was not deleted", jti)
		}
	}
}

// TestFlushExpiredTokensSweeps: flushexpiredtokens deletes the refresh tokens and
// revocations expired more than a minute ago (the clock-skew margin) and says how many;
// live tokens and those expired just now stay.
func TestFlushExpiredTokensSweeps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := mustAuditStore(t, path)
	owner := mustHousekeepingUser(t, db)
	now := time.Now()
	mustTokensExpiring(t, db, owner, "gone", now.Add(-time.Hour), now.Add(-2*time.Hour), now.Add(-2*expiryMargin))
	mustTokensExpiring(t, db, owner, "kept", now.Add(-expiryMargin/2), now.Add(time.Hour))
	if err := db.RevokeAccessToken(context.Background(), "acc", owner, now.Add(-time.Hour)); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}
	out, _, err := runCmd(t, nil, "", "flushexpiredtokens", "--database", "sqlite:"+path)
	for _, want := range []string{"Deleted 3 expired refresh tokens.", "Deleted 1 expired revocations."} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("flushexpiredtokens = %q, %v, want %q", out, err, want)
		}
	}
	for _, jti := range []string{"kept-0", "kept-1"} {
		if !tokenExists(t, db, jti) {
			t.Errorf("flushexpiredtokens deleted %s, want it kept", jti)
		}
	}
}

// TestHousekeeperRuns: serve's housekeeper sweeps on its ticks at the time its clock says,
// logs what it deleted, and stops with its context.
func TestHousekeeperRuns(t *testing.T) {
	db := mustAuditStore(t, filepath.Join(t.TempDir(), "h.db"))
	owner := mustHousekeepingUser(t, db)
	base := time.Now()
	var clock atomic.Pointer[time.Time]
	clock.Store(&base)
	mustTokensExpiring(t, db, owner, "tok", base.Add(time.Hour))
	var logs bytes.Buffer
	logw := &lockedWriter{w: &logs}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runHousekeeper(ctx, db, time.Millisecond, func() time.Time { return *clock.Load() },
			slog.New(slog.NewTextHandler(logw, nil)))
	}()
	time.Sleep(20 * time.Millisecond)
	if !tokenExists(t, db, "tok-0") {
		t.Fatal("housekeeper deleted a live refresh token")
	}
	later := base.Add(time.Hour + expiryMargin + time.Second)
	clock.Store(&later)
	waitGone(t, db, "tok-0")
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("housekeeper did not stop with its context")
	}
	logw.mu.Lock()
	defer logw.mu.Unlock()
	if got := logs.String(); !strings.Contains(got, "housekeeping deleted expired rows") || !strings.Contains(got, "refresh_tokens=1") {
		t.Errorf("housekeeper log = %q, want a line saying it deleted 1 refresh token", got)
	}
}

// TestServeHousekeeping: serve, on a real SQLite file, deletes the expired rows it finds at
// start-up and those that expire later, every --housekeeping-interval.
func TestServeHousekeeping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := mustAuditStore(t, path)
	owner := mustHousekeepingUser(t, db)
	now := time.Now()
	mustTokensExpiring(t, db, owner, "old", now.Add(-time.Hour))
	mustTokensExpiring(t, db, owner, "live", now.Add(time.Hour))
	s := startServer(t, path, "--housekeeping-interval", "20ms")
	waitGone(t, db, "old-0")
	// A token recorded after start-up, already past the margin, goes on a later tick.
	mustTokensExpiring(t, db, owner, "later", time.Now().Add(-2*expiryMargin))
	waitGone(t, db, "later-0")
	if !tokenExists(t, db, "live-0") {
		t.Error("serve's housekeeper deleted a live refresh token")
	}
	if log := s.logText(); !strings.Contains(log, "housekeeping deleted expired rows") {
		t.Errorf("serve log = %q, want the housekeeper's summary line", log)
	}
}

// TestServeHousekeepingOff: --housekeeping-interval 0 leaves expired rows to
// flushexpiredtokens.
func TestServeHousekeepingOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := mustAuditStore(t, path)
	mustTokensExpiring(t, db, mustHousekeepingUser(t, db), "old", time.Now().Add(-time.Hour))
	s := startServer(t, path, "--housekeeping-interval", "0")
	// A housekeeper sweeps as it starts; give one the time to, had it started.
	time.Sleep(200 * time.Millisecond)
	if !tokenExists(t, db, "old-0") {
		t.Error("serve with --housekeeping-interval 0 deleted an expired refresh token")
	}
	if log := s.logText(); strings.Contains(log, "housekeeping") {
		t.Errorf("serve log = %q, want no housekeeping", log)
	}
}

// TestBadHousekeepingInterval: a negative or malformed interval stops serve with one line
// naming the setting.
func TestBadHousekeepingInterval(t *testing.T) {
	checkBadSettings(t, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), []badSetting{
		{"negative", nil, []string{"--housekeeping-interval", "-1m"}, "--housekeeping-interval"},
		{"negative env", map[string]string{"CIPHEMIC_HOUSEKEEPING_INTERVAL": "-1m"}, nil, "CIPHEMIC_HOUSEKEEPING_INTERVAL"},
		{"not a duration", map[string]string{"CIPHEMIC_HOUSEKEEPING_INTERVAL": "hourly"}, nil, "CIPHEMIC_HOUSEKEEPING_INTERVAL"},
	})
}
