package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// graceConfig is the default configuration with a reuse grace window.
func graceConfig(grace time.Duration) *Config {
	return &Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, RefreshReuseGrace: grace}
}

// refresh posts a refresh token to /api/token/refresh/.
func (in *instance) refresh(t testing.TB, refresh string) response {
	t.Helper()
	return in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh})
}

// mustRefresh refreshes and fails the test unless it gets a new pair.
func (in *instance) mustRefresh(t testing.TB, refresh string) (access, next string) {
	t.Helper()
	r := in.refresh(t, refresh)
	if r.status != http.StatusOK {
		t.Fatalf("refresh = %d %s, want 200", r.status, r.body)
	}
	return r.str(t, "access"), r.str(t, "refresh")
}

// mustClaims verifies raw with the instance's token service.
func (in *instance) mustClaims(t testing.TB, raw string) token.Claims {
	t.Helper()
	c, err := in.tokens.Parse(raw, "")
	if err != nil {
		t.Fatalf("Parse(issued token) = %v", err)
	}
	return c
}

// wantMe checks the status /api/me/ gives the access token named name.
func (in *instance) wantMe(t testing.TB, name, access string, status int) {
	t.Helper()
	if r := in.get(t, "/api/me/", access); r.status != status {
		t.Errorf("/api/me/ with %s = %d %s, want %d", name, r.status, r.body, status)
	}
}

// TestReuseRevokesFamily: presenting a spent refresh token (rotated, or logged out) answers
// as a blacklisted token and ends every token of its family, access tokens included,
// while the user's other sessions carry on.
func TestReuseRevokesFamily(t *testing.T) {
	tests := []struct {
		name  string
		spend func(t *testing.T, in *instance, refresh string) // spends refresh
		reuse string                                           // where the spent token comes back
	}{
		{"rotated, refresh", func(t *testing.T, in *instance, refresh string) { in.mustRefresh(t, refresh) }, "/api/token/refresh/"},
		{"rotated, logout", func(t *testing.T, in *instance, refresh string) { in.mustRefresh(t, refresh) }, "/api/token/blacklist/"},
		{"logged out, refresh", func(t *testing.T, in *instance, refresh string) {
			wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}), 200, `{}`)
		}, "/api/token/refresh/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstance(t, options{})
			in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
			access0, r1 := in.login(t, "testuser", "password")
			otherAccess, otherRefresh := in.login(t, "testuser", "password")
			access1, r2 := in.mustRefresh(t, r1)
			access2, r3 := in.mustRefresh(t, r2)
			tc.spend(t, in, r3)

			wantStatusBody(t, in.postJSON(t, tc.reuse, map[string]string{"refresh": r3}), 401, bodyBlacklisted)
			for name, access := range map[string]string{"login access": access0, "access of rotation 1": access1, "access of rotation 2": access2} {
				wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
				if r := in.postJSON(t, "/api/token/verify/", map[string]string{"token": access}); r.status != 401 {
					t.Errorf("verify %s after reuse = %d, want 401", name, r.status)
				}
			}
			for _, refresh := range []string{r1, r2, r3} {
				wantStatusBody(t, in.refresh(t, refresh), 401, bodyBlacklisted)
			}
			in.wantMe(t, "another session's access token", otherAccess, 200)
			in.mustRefresh(t, otherRefresh)
			fresh, _ := in.login(t, "testuser", "password")
			in.wantMe(t, "a new login's access token", fresh, 200)
		})
	}
}

// TestReuseRevokesLiveSuccessor: the family's live refresh token, which the thief or the
// victim holds, dies with the reused one.
func TestReuseRevokesLiveSuccessor(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	_, r1 := in.login(t, "testuser", "password")
	access, r2 := in.mustRefresh(t, r1)
	wantStatusBody(t, in.refresh(t, r1), 401, bodyBlacklisted)
	wantStatusBody(t, in.refresh(t, r2), 401, bodyBlacklisted)
	wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
}

// TestReuseWithoutRotation: without rotation a logged-out token that comes back is reuse
// as well, and ends the access tokens refreshed from it.
func TestReuseWithoutRotation(t *testing.T) {
	in := newInstance(t, options{cfg: &Config{RotateRefreshTokens: false}})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	_, refresh := in.login(t, "testuser", "password")
	r := in.refresh(t, refresh)
	if r.status != 200 {
		t.Fatalf("refresh without rotation = %d %s, want 200", r.status, r.body)
	}
	access := r.str(t, "access")
	wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}), 200, `{}`)
	in.wantMe(t, "refreshed access after logout", access, 200)
	wantStatusBody(t, in.refresh(t, refresh), 401, bodyBlacklisted)
	wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
}

// TestReuseAcrossInstances: a family revoked on one instance is refused by another as soon
// as its view syncs.
func TestReuseAcrossInstances(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := newInstance(t, options{dbPath: dbPath, clock: clock})
	b := newInstance(t, options{dbPath: dbPath, clock: clock})
	a.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access0, r1 := a.login(t, "testuser", "password")
	otherAccess, _ := a.login(t, "testuser", "password")
	access1, r2 := a.mustRefresh(t, r1)

	wantStatusBody(t, a.refresh(t, r1), 401, bodyBlacklisted)
	a.wantMe(t, "family access on the detecting instance", access1, 401)
	b.wantMe(t, "family access on instance B before its sync", access1, 200)
	if err := b.view.Sync(t.Context(), b.db); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	b.wantMe(t, "login access on instance B", access0, 401)
	b.wantMe(t, "rotation access on instance B", access1, 401)
	b.wantMe(t, "another session's access on instance B", otherAccess, 200)
	wantStatusBody(t, b.refresh(t, r2), 401, bodyBlacklisted)
}

// TestReuseGraceWindow: within the window a replay of the token just rotated gets the
// same successor again and revokes nothing; outside it, or once the successor is spent,
// the replay is reuse.
func TestReuseGraceWindow(t *testing.T) {
	const grace = 10 * time.Second
	setup := func(t *testing.T) (in *instance, access0, r1, access1, r2 string) {
		in = newInstance(t, options{cfg: graceConfig(grace)})
		in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
		access0, r1 = in.login(t, "testuser", "password")
		access1, r2 = in.mustRefresh(t, r1)
		return in, access0, r1, access1, r2
	}
	t.Run("within the window", func(t *testing.T) {
		in, access0, r1, access1, r2 := setup(t)
		in.clock.Advance(grace)
		access, again := in.mustRefresh(t, r1)
		got, want := in.mustClaims(t, again), in.mustClaims(t, r2)
		if got.JTI != want.JTI || !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.SessionID != want.SessionID {
			t.Errorf("replay within the window = %+v, want the successor %+v", got, want)
		}
		if c := in.mustClaims(t, access); c.SessionID != want.SessionID {
			t.Errorf("access of the replay has sid %q, want the family's %q", c.SessionID, want.SessionID)
		}
		for name, a := range map[string]string{"login access": access0, "rotation access": access1, "replay access": access} {
			in.wantMe(t, name, a, 200)
		}
		// The successor is still one token, spent once.
		in.mustRefresh(t, again)
		in.clock.Advance(grace + time.Second)
		wantStatusBody(t, in.refresh(t, r2), 401, bodyBlacklisted)
		in.wantMe(t, "access after the successor's own reuse", access, 401)
	})
	t.Run("after the window", func(t *testing.T) {
		in, _, r1, access1, r2 := setup(t)
		in.clock.Advance(grace + time.Millisecond)
		wantStatusBody(t, in.refresh(t, r1), 401, bodyBlacklisted)
		wantStatusBody(t, in.refresh(t, r2), 401, bodyBlacklisted)
		in.wantMe(t, "rotation access", access1, 401)
	})
	t.Run("successor rotated", func(t *testing.T) {
		in, _, r1, _, r2 := setup(t)
		access2, r3 := in.mustRefresh(t, r2)
		wantStatusBody(t, in.refresh(t, r1), 401, bodyBlacklisted)
		wantStatusBody(t, in.refresh(t, r3), 401, bodyBlacklisted)
		in.wantMe(t, "access of the successor's rotation", access2, 401)
	})
	t.Run("successor logged out", func(t *testing.T) {
		in, access0, r1, _, r2 := setup(t)
		wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": r2}), 200, `{}`)
		wantStatusBody(t, in.refresh(t, r1), 401, bodyBlacklisted)
		in.wantMe(t, "login access", access0, 401)
	})
	t.Run("family revoked", func(t *testing.T) {
		in, _, r1, _, r2 := setup(t)
		c := in.mustClaims(t, r2)
		if err := in.db.RevokeFamily(context.Background(), c.SessionID, c.UserID, in.clock.Now(), in.clock.Now().Add(time.Hour)); err != nil {
			t.Fatalf("RevokeFamily: %v", err)
		}
		wantStatusBody(t, in.refresh(t, r1), 401, bodyBlacklisted)
	})
}

// refreshAtOnce presents refresh n times concurrently and returns the answers.
func refreshAtOnce(t *testing.T, in *instance, refresh string, n int) []response {
	rs := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			rs[i] = in.refresh(t, refresh)
		})
	}
	close(start)
	wg.Wait()
	return rs
}

// TestReuseConcurrent: without a grace window, the losers of a refresh race are reuse and
// the family dies, the winner's new tokens too — which is what the window is for; with
// one, every racer gets the same successor.
func TestReuseConcurrent(t *testing.T) {
	const n = 16
	t.Run("no grace", func(t *testing.T) {
		in := newInstance(t, options{})
		in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
		access0, refresh := in.login(t, "testuser", "password")
		var winner response
		ok := 0
		for _, r := range refreshAtOnce(t, in, refresh, n) {
			switch {
			case r.status == 200:
				ok, winner = ok+1, r
			case r.status != 401 || string(r.body) != bodyBlacklisted:
				t.Errorf("concurrent refresh = %d %s, want 200 or 401 %s", r.status, r.body, bodyBlacklisted)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1", ok, n)
		}
		wantStatusBody(t, in.refresh(t, winner.str(t, "refresh")), 401, bodyBlacklisted)
		in.wantMe(t, "winner's access", winner.str(t, "access"), 401)
		in.wantMe(t, "login access", access0, 401)
	})
	t.Run("grace", func(t *testing.T) {
		in := newInstance(t, options{cfg: graceConfig(10 * time.Second)})
		in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
		access0, refresh := in.login(t, "testuser", "password")
		jtis := map[string]bool{}
		var successor string
		for _, r := range refreshAtOnce(t, in, refresh, n) {
			if r.status != 200 {
				t.Errorf("concurrent refresh with grace = %d %s, want 200", r.status, r.body)
				continue
			}
			successor = r.str(t, "refresh")
			jtis[in.mustClaims(t, successor).JTI] = true
			in.wantMe(t, "a racer's access", r.str(t, "access"), 200)
		}
		if len(jtis) != 1 {
			t.Errorf("concurrent refreshes with grace got %d distinct refresh jtis, want 1", len(jtis))
		}
		in.wantMe(t, "login access", access0, 200)
		if successor != "" {
			in.mustRefresh(t, successor)
		}
	})
}

// TestReuseLegacyToken: a refresh token issued before tokens carried "sid" still rotates
// into its store family, and that family can be revoked.
func TestReuseLegacyToken(t *testing.T) {
	in := newInstance(t, options{})
	u := in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	legacy, lc, err := in.tokens.IssueRefresh(u.ID, in.clock.Now())
	if err != nil {
		t.Fatalf("IssueRefresh: %v", err)
	}
	rt := ciphemic.RefreshToken{JTI: lc.JTI, UserID: u.ID, IssuedAt: lc.IssuedAt, ExpiresAt: lc.ExpiresAt}
	if err := in.db.CreateRefreshToken(context.Background(), rt); err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}
	access, next := in.mustRefresh(t, legacy)
	for name, raw := range map[string]string{"access": access, "successor": next} {
		if got := in.mustClaims(t, raw).SessionID; got != lc.JTI {
			t.Errorf("%s of a legacy token has sid %q, want its family %q", name, got, lc.JTI)
		}
	}
	wantStatusBody(t, in.refresh(t, legacy), 401, bodyBlacklisted)
	in.wantMe(t, "access of the legacy family", access, 401)
}

// logBuffer collects log output; the request log is written after the response, so reads
// and writes must not race.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records whose message is msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestReuseLogged: reuse is logged as a warning and a security event naming the user, the
// family, the client and the request, never the token; a token that revoke-all ended is
// not reuse.
func TestReuseLogged(t *testing.T) {
	logs := &logBuffer{}
	cfg := graceConfig(0)
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	in := newInstance(t, options{cfg: cfg})
	u := in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, r1 := in.login(t, "testuser", "password")
	in.mustRefresh(t, r1)
	r := in.refresh(t, r1)
	wantStatusBody(t, r, 401, bodyBlacklisted)

	warnings := logs.records(t, "refresh token reuse detected")
	if len(warnings) != 1 {
		t.Fatalf("%d reuse warnings logged, want 1; log:\n%s", len(warnings), logs)
	}
	want := map[string]any{
		"level": "WARN", "user_id": float64(u.ID), "family": in.mustClaims(t, r1).JTI,
		"client": "127.0.0.1", "request_id": r.header.Get("X-Request-Id"), "spent_by": "rotation",
	}
	for k, v := range want {
		if warnings[0][k] != v {
			t.Errorf("reuse warning %s = %v, want %v", k, warnings[0][k], v)
		}
	}
	var events []map[string]any
	for _, e := range logs.records(t, "audit event") {
		if e["kind"] == string(ciphemic.AuditTokenReuse) {
			events = append(events, e)
		}
	}
	if len(events) != 1 || events[0]["level"] != "WARN" || events[0]["user_id"] != float64(u.ID) {
		t.Errorf("reuse audit events = %v, want one warning of user %d", events, u.ID)
	}
	for _, part := range append(strings.Split(r1, "."), strings.Split(access, ".")[2]) {
		if strings.Contains(logs.String(), part) {
			t.Errorf("log contains part of a token: %q", part)
		}
	}

	// After revoke-all the user's other devices present their tokens: not reuse.
	access, refresh := in.login(t, "testuser", "password")
	wantStatusBody(t, in.postJSON(t, "/api/token/revoke-all/", `{}`, "Authorization: Bearer "+access), 200, `{}`)
	wantStatusBody(t, in.refresh(t, refresh), 401, bodyBlacklisted)
	if got := logs.records(t, "refresh token reuse detected"); len(got) != 1 {
		t.Errorf("a token ended by revoke-all was logged as reuse: %d warnings, want 1", len(got))
	}
}
