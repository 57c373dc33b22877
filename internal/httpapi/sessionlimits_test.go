package httpapi

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func limitsConfig(rotate bool, idle, max time.Duration) *Config {
	return &Config{RotateRefreshTokens: rotate, BlacklistAfterRotation: rotate, LoginThrottle: LoginThrottle{Disabled: true},
		SessionIdleTimeout: idle, SessionMaxLifetime: max}
}

// TestSessionIdleTimeout: a session not refreshed for the idle timeout ends, with the
// contract's 401, though its refresh token (24 h) has not expired; each rotated token's
// exp is within the idle timeout, and one refresh in time keeps the session going.
func TestSessionIdleTimeout(t *testing.T) {
	in := newInstance(t, options{cfg: limitsConfig(true, time.Hour, 0)})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	_, refresh, _ := in.loginFrom(t, "alice", "password", "ua")
	if exp := in.mustClaims(t, refresh).ExpiresAt; !exp.Equal(in.clock.Now().Add(time.Hour)) {
		t.Errorf("login refresh exp = %v, want the idle timeout away, %v", exp, in.clock.Now().Add(time.Hour))
	}
	in.clock.Advance(59 * time.Minute)
	_, refresh = in.mustRefresh(t, refresh)
	if exp := in.mustClaims(t, refresh).ExpiresAt; !exp.Equal(in.clock.Now().Add(time.Hour)) {
		t.Errorf("rotated refresh exp = %v, want %v", exp, in.clock.Now().Add(time.Hour))
	}
	in.clock.Advance(59 * time.Minute)
	access, refresh := in.mustRefresh(t, refresh)
	if page := in.mustSessions(t, "/api/me/sessions/", access); page.Count != 1 {
		t.Errorf("sessions in time = %+v, want one", page)
	}
	in.clock.Advance(time.Hour)
	wantStatusBody(t, in.refresh(t, refresh), 401, bodyTokenInvalid)
}

// TestSessionIdleCheckedOnRefresh: the idle check does not rest on the token's exp alone:
// a token issued by an instance without an idle timeout is refused, once idle, by one with.
func TestSessionIdleCheckedOnRefresh(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	loose := newInstance(t, options{dbPath: dbPath, clock: clock, cfg: limitsConfig(true, 0, 0)})
	strict := newInstance(t, options{dbPath: dbPath, clock: clock, cfg: limitsConfig(true, time.Hour, 0)})
	loose.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	_, refresh, _ := loose.loginFrom(t, "alice", "password", "ua")
	_, other, _ := loose.loginFrom(t, "alice", "password", "ua")
	clock.Advance(2 * time.Hour)
	wantStatusBody(t, strict.refresh(t, refresh), 401, bodyTokenInvalid)
	if r := loose.refresh(t, other); r.status != 200 {
		t.Errorf("the loose instance's refresh = %d %s, want 200", r.status, r.body)
	}
	access, _, _ := strict.loginFrom(t, "alice", "password", "ua")
	if page := strict.mustSessions(t, "/api/me/sessions/", access); page.Count != 2 || ids(page) == "" ||
		page.Results[1].ID != loose.mustClaims(t, other).SessionID {
		t.Errorf("sessions listed by the strict instance = %+v, want the fresh one and the one just refreshed, not the idle one", page)
	}
}

// TestSessionMaxLifetime: however often it is refreshed, a session ends its maximum
// lifetime after its login: rotated tokens' exp never runs past that end, and a refresh
// at or after it is the contract's 401 even from an instance that issued without the bound.
func TestSessionMaxLifetime(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	in := newInstance(t, options{dbPath: dbPath, clock: clock, cfg: limitsConfig(true, 0, 3*time.Hour)})
	unbounded := newInstance(t, options{dbPath: dbPath, clock: clock, cfg: limitsConfig(true, 0, 0)})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	login := clock.Now()
	_, refresh, _ := in.loginFrom(t, "alice", "password", "ua")
	_, legacy, _ := unbounded.loginFrom(t, "alice", "password", "ua")
	for i := 0; i < 2; i++ {
		clock.Advance(time.Hour)
		_, refresh = in.mustRefresh(t, refresh)
		if exp := in.mustClaims(t, refresh).ExpiresAt; !exp.Equal(login.Add(3 * time.Hour)) {
			t.Errorf("refresh %d: exp = %v, want the session's end %v", i, exp, login.Add(3*time.Hour))
		}
	}
	clock.Advance(time.Hour)
	wantStatusBody(t, in.refresh(t, refresh), 401, bodyTokenInvalid)
	// A 24 h token of an unbounded session, three hours old: the bound applies on refresh.
	wantStatusBody(t, in.refresh(t, legacy), 401, bodyTokenInvalid)
}

// TestSessionLimitsWithoutRotation: without rotation the refresh token is kept, and the
// session still ends when idle.
func TestSessionLimitsWithoutRotation(t *testing.T) {
	in := newInstance(t, options{cfg: limitsConfig(false, time.Hour, 0)})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	_, refresh, _ := in.loginFrom(t, "alice", "password", "ua")
	in.clock.Advance(50 * time.Minute)
	if r := in.refresh(t, refresh); r.status != 200 {
		t.Fatalf("refresh in time = %d %s", r.status, r.body)
	}
	in.clock.Advance(50 * time.Minute) // idle from the last refresh, not from the login
	r := in.refresh(t, refresh)
	if r.status != 200 {
		t.Fatalf("refresh 50 minutes after the last = %d %s, want 200", r.status, r.body)
	}
	in.clock.Advance(time.Hour)
	wantStatusBody(t, in.refresh(t, refresh), 401, bodyTokenInvalid)
}

// TestSessionLimitsEnd: a session ends at the sooner of its idle and absolute ends; a
// refresh token without rotation runs to the absolute end only.
func TestSessionLimitsEnd(t *testing.T) {
	created := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := created.Add(10 * time.Hour)
	tests := []struct {
		l    sessionLimits
		want time.Time
	}{
		{sessionLimits{}, time.Time{}},
		{sessionLimits{idle: time.Hour}, now.Add(time.Hour)},
		{sessionLimits{max: 24 * time.Hour}, created.Add(24 * time.Hour)},
		{sessionLimits{idle: time.Hour, max: 10*time.Hour + 30*time.Minute}, created.Add(10*time.Hour + 30*time.Minute)},
	}
	for _, tt := range tests {
		if got := tt.l.end(created, now); !got.Equal(tt.want) {
			t.Errorf("%+v.end() = %v, want %v", tt.l, got, tt.want)
		}
		fixed := tt.l
		fixed.idle = 0
		if got, want := tt.l.tokenEnd(created, now), fixed.end(created, now); !got.Equal(want) {
			t.Errorf("%+v.tokenEnd() without rotation = %v, want %v", tt.l, got, want)
		}
	}
}
