package httpapi

import (
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func TestRefreshRotation(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, r1 := in.login(t, "testuser", "password")

	r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": r1})
	if r.status != 200 {
		t.Fatalf("refresh R1 = %d %s, want 200", r.status, r.body)
	}
	r2 := r.str(t, "refresh")
	if r2 == r1 {
		t.Errorf("refresh returned the same refresh token; want rotation")
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if r := in.get(t, "/api/me/", r.str(t, "access")); r.status != 200 {
		t.Errorf("refreshed access on /api/me/ = %d, want 200", r.status)
	}
	if r := in.postJSON(t, "/api/token/refresh", map[string]string{"refresh": r2}); r.status != 200 {
		t.Errorf("refresh R2 (no slash) = %d %s, want 200", r.status, r.body)
	}
	// Presenting R1 again is reuse (reuse_test.go): blacklisted, and its family revoked.
	wantStatusBody(t, in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": r1}), 401, bodyBlacklisted)

	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"access token", `{"refresh":"` + access + `"}`, 401, bodyTokenInvalid},
		{"garbage", `{"refresh":"garbage"}`, 401, bodyTokenInvalid},
		{"missing", `{}`, 400, `{"refresh":["This field is required."]}`},
		{"null", `{"refresh":null}`, 400, `{"refresh":["This field may not be null."]}`},
	}
	for _, tt := range tests {
		r := in.postJSON(t, "/api/token/refresh/", tt.body)
		if r.status != tt.status || string(r.body) != tt.want {
			t.Errorf("%s: refresh = %d %s, want %d %s", tt.name, r.status, r.body, tt.status, tt.want)
		}
	}
	wantStatusBody(t, in.get(t, "/api/token/refresh/", ""), 405, `{"detail":"Method \"GET\" not allowed."}`)

	t.Run("expired", func(t *testing.T) {
		_, old := in.login(t, "testuser", "password")
		in.clock.Advance(24*time.Hour + time.Second)
		wantStatusBody(t, in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": old}), 401, bodyTokenInvalid)
	})
}

func TestRefreshSettings(t *testing.T) {
	t.Run("no rotation", func(t *testing.T) {
		in := newInstance(t, options{cfg: &Config{RotateRefreshTokens: false}})
		in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
		_, refresh := in.login(t, "testuser", "password")
		for range 2 {
			r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh})
			if r.status != 200 || r.json(t)["refresh"] != nil || r.json(t)["access"] == nil {
				t.Errorf("refresh without rotation = %d %s, want 200 with access only", r.status, r.body)
			}
		}
	})
	t.Run("rotation without blacklist", func(t *testing.T) {
		in := newInstance(t, options{cfg: &Config{RotateRefreshTokens: true, BlacklistAfterRotation: false}})
		in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
		_, refresh := in.login(t, "testuser", "password")
		for range 2 {
			r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh})
			if r.status != 200 || r.json(t)["refresh"] == nil {
				t.Errorf("rotation without blacklist = %d %s, want 200 with a new pair", r.status, r.body)
			}
		}
	})
}

// TestRefreshExactlyOnce: of many concurrent refreshes with one refresh token, exactly one
// succeeds (simplejwt lets two of eight through).
func TestRefreshExactlyOnce(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	for round := range 3 {
		_, refresh := in.login(t, "testuser", "password")
		const n = 16
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				statuses[i] = in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}).status
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 401:
			default:
				t.Errorf("round %d: concurrent refresh status %d, want 200 or 401", round, s)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d of %d concurrent refreshes succeeded, want exactly 1", round, ok, n)
		}
	}
}

func TestVerify(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, refresh := in.login(t, "testuser", "password")
	_, spent := in.login(t, "testuser", "password")
	in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": spent})

	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"access", `{"token":"` + access + `"}`, 200, `{}`},
		{"refresh", `{"token":"` + refresh + `"}`, 200, `{}`},
		{"garbage", `{"token":"garbage"}`, 401, bodyTokenInvalid},
		{"blacklisted refresh", `{"token":"` + spent + `"}`, 401, bodyTokenInvalid},
		{"alg none", `{"token":"` + forgeNone(t, access) + `"}`, 401, bodyTokenInvalid},
		{"missing", `{}`, 400, `{"token":["This field is required."]}`},
	}
	for _, tt := range tests {
		r := in.postJSON(t, "/api/token/verify/", tt.body)
		if r.status != tt.status || string(r.body) != tt.want {
			t.Errorf("%s: verify = %d %s, want %d %s", tt.name, r.status, r.body, tt.status, tt.want)
		}
	}
	in.clock.Advance(5*time.Minute + time.Second)
	wantStatusBody(t, in.postJSON(t, "/api/token/verify/", `{"token":"`+access+`"}`), 401, bodyTokenInvalid)
}

func TestBlacklistLogout(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, refresh := in.login(t, "testuser", "password")

	wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}), 200, `{}`)
	if r := in.get(t, "/api/me/", access); r.status != 200 {
		t.Errorf("access after logout without Authorization = %d, want 200 (only the refresh token was named)", r.status)
	}
	// Replaying the logged-out token is reuse (reuse_test.go), which also ends access.
	wantStatusBody(t, in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}), 401, bodyBlacklisted)
	wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}), 401, bodyBlacklisted)
	wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": access}), 401, bodyTokenInvalid)
	wantStatusBody(t, in.postJSON(t, "/api/token/blacklist/", `{}`), 400, `{"refresh":["This field is required."]}`)

	t.Run("with access token", func(t *testing.T) {
		access, refresh := in.login(t, "testuser", "password")
		r := in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}, "Authorization: Bearer "+access)
		wantStatusBody(t, r, 200, `{}`)
		wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
		wantStatusBody(t, in.postJSON(t, "/api/token/verify/", map[string]string{"token": access}), 401, bodyTokenInvalid)
	})
	t.Run("stranger's access token untouched", func(t *testing.T) {
		in.mustCreateUser(t, "other", "password", ciphemic.RoleStudent)
		otherAccess, _ := in.login(t, "other", "password")
		_, refresh := in.login(t, "testuser", "password")
		in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}, "Authorization: Bearer "+otherAccess)
		if r := in.get(t, "/api/me/", otherAccess); r.status != 200 {
			t.Errorf("another user's access token after logout = %d, want 200", r.status)
		}
	})
}

// TestRevokeAllAcrossInstances: revoke-all on one instance stops the user's access tokens
// on another instance as soon as its view syncs (every 500 ms in serve), and a login right
// after, in the same second, works.
func TestRevokeAllAcrossInstances(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := newInstance(t, options{dbPath: dbPath, clock: clock})
	b := newInstance(t, options{dbPath: dbPath, clock: clock})
	a.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, refresh := a.login(t, "testuser", "password")
	access2, _ := a.login(t, "testuser", "password")
	if r := b.get(t, "/api/me/", access); r.status != 200 {
		t.Fatalf("instance B before revoke-all = %d, want 200", r.status)
	}
	wantStatusBody(t, a.postJSON(t, "/api/token/revoke-all/", `{}`, "Authorization: Bearer "+access), 200, `{}`)
	wantStatusBody(t, a.get(t, "/api/me/", access2), 401, bodyAccessBad)
	if err := b.view.Sync(t.Context(), b.db); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantStatusBody(t, b.get(t, "/api/me/", access), 401, bodyAccessBad)
	wantStatusBody(t, b.get(t, "/api/me/", access2), 401, bodyAccessBad)
	wantStatusBody(t, b.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}), 401, bodyBlacklisted)

	clock.Advance(time.Millisecond) // a login takes far longer than this in real time
	fresh, _ := a.login(t, "testuser", "password")
	if r := b.get(t, "/api/me/", fresh); r.status != 200 {
		t.Errorf("login right after revoke-all, same second, on instance B = %d %s, want 200", r.status, r.body)
	}
	wantStatusBody(t, a.do(t, http.MethodPost, "/api/token/revoke-all/", "", nil), 401, bodyNotProvided)
}

// TestLogoutAcrossInstances: an access token revoked by logout on one instance is refused by
// another after its next sync.
func TestLogoutAcrossInstances(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := newInstance(t, options{dbPath: dbPath, clock: clock})
	b := newInstance(t, options{dbPath: dbPath, clock: clock})
	a.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, refresh := a.login(t, "testuser", "password")
	a.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}, "Authorization: Bearer "+access)
	if err := b.view.Sync(t.Context(), b.db); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantStatusBody(t, b.get(t, "/api/me/", access), 401, bodyAccessBad)
}
