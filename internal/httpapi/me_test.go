package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

func TestMeAuthentication(t *testing.T) {
	in := newInstance(t, options{})
	u := in.mustCreateUser(t, "testuser", "password", ciphemic.RoleTeacher)
	access, refresh := in.login(t, "testuser", "password")
	inactive := in.mustCreateUserWith(t, ciphemic.User{Username: "off", Role: ciphemic.RoleStudent}, "password")
	inactiveAccess, _, _ := in.tokens.IssueAccess(inactive.ID, []ciphemic.Role{ciphemic.RoleStudent}, in.clock.Now())
	ghostAccess, _, _ := in.tokens.IssueAccess(999999, []ciphemic.Role{ciphemic.RoleStudent}, in.clock.Now())

	tests := []struct {
		name   string
		header string
		status int
		body   string
	}{
		{"no header", "", 401, bodyNotProvided},
		{"other scheme", "JWT " + access, 401, bodyNotProvided},
		{"lower-case scheme", "bearer " + access, 401, bodyNotProvided},
		{"no token", "Bearer", 401, bodyBadHeader},
		{"two tokens", "Bearer " + access + " extra", 401, bodyBadHeader},
		{"garbage", "Bearer garbage", 401, bodyAccessBad},
		{"refresh as access", "Bearer " + refresh, 401, bodyAccessBad},
		{"alg none", "Bearer " + forgeNone(t, access), 401, bodyAccessBad},
		{"tampered payload", "Bearer " + tamper(t, access, "user_id", 2), 401, bodyAccessBad},
		{"deleted user", "Bearer " + ghostAccess, 401, `{"detail":"User not found","code":"user_not_found"}`},
		{"inactive user", "Bearer " + inactiveAccess, 401, `{"detail":"User is inactive","code":"user_inactive"}`},
	}
	// Every header is tried before the access token was ever verified and again once it
	// was: a verified token is answered from the cache without the header's scan
	// (authenticator.verifiedBefore), which must not change any verdict.
	for _, round := range []string{"first use", "verified before"} {
		for _, tt := range tests {
			t.Run(round+"/"+tt.name, func(t *testing.T) {
				var r response
				if tt.header == "" {
					r = in.get(t, "/api/me/", "")
				} else {
					r = in.do(t, http.MethodGet, "/api/me/", "", nil, "Authorization: "+tt.header)
				}
				wantStatusBody(t, r, tt.status, tt.body)
				want := `Bearer realm="api"`
				if tt.body != bodyNotProvided {
					want += `, error="invalid_token"`
				}
				if got := r.header.Get("WWW-Authenticate"); got != want {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
			})
		}
		// simplejwt splits the header on white space: any run of it around the token is
		// accepted.
		for _, header := range []string{"Bearer  " + access, "Bearer " + access + " ", "Bearer\t" + access, " Bearer " + access} {
			if r := in.do(t, http.MethodGet, "/api/me/", "", nil, "Authorization: "+header); r.status != 200 {
				t.Errorf("%s: Authorization %q = %d %s, want 200", round, header, r.status, r.body)
			}
		}
	}

	t.Run("valid", func(t *testing.T) {
		r := in.get(t, "/api/me/", access)
		if r.status != 200 {
			t.Fatalf("GET /api/me/ = %d %s, want 200", r.status, r.body)
		}
		var got meBody
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Username != "testuser" || got.Email != "testuser@example.com" ||
			len(got.Roles) != 1 || got.Roles[0] != ciphemic.RoleTeacher || !got.IsActive ||
			got.DateJoined == nil || got.LastLogin == nil {
			t.Errorf("GET /api/me/ = %s, want the user's fields", r.body)
		}
		if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "password") {
			t.Errorf("GET /api/me/ = %s leaks the password hash", r.body)
		}
	})
	t.Run("no slash", func(t *testing.T) {
		if r := in.get(t, "/api/me", access); r.status != 200 {
			t.Errorf("GET /api/me = %d, want 200", r.status)
		}
	})
	t.Run("expired", func(t *testing.T) {
		in.clock.Advance(5*time.Minute + time.Second)
		defer in.clock.Advance(-5*time.Minute - time.Second)
		wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
	})
	t.Run("POST with token", func(t *testing.T) {
		r := in.do(t, http.MethodPost, "/api/me/", "", nil, "Authorization: Bearer "+access)
		wantStatusBody(t, r, 405, `{"detail":"Method \"POST\" not allowed."}`)
	})
	t.Run("POST without token", func(t *testing.T) {
		wantStatusBody(t, in.do(t, http.MethodPost, "/api/me/", "", nil), 401, bodyNotProvided)
	})
}

// forgeNone re-signs a token's payload with alg "none" and an empty signature.
func forgeNone(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return header + "." + parts[1] + "."
}

// tamper changes one claim of a token's payload and keeps the old signature.
func tamper(t *testing.T, tok, claim string, value any) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims[claim] = value
	raw, _ = json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
}

func TestPasswordChange(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, refresh := in.login(t, "testuser", "password")
	auth := "Authorization: Bearer " + access

	tests := []struct {
		name string
		body string
		want string
	}{
		{"missing", `{}`, `{"old_password":["This field is required."],"new_password":["This field is required."]}`},
		{"wrong old", `{"old_password":"nope","new_password":"a-long-new-one"}`, `{"old_password":["Your old password was entered incorrectly. Please enter it again."]}`},
		{"too short", `{"old_password":"password","new_password":"short"}`, `{"new_password":["This password is too short. It must contain at least 8 characters."]}`},
		{"numeric", `{"old_password":"password","new_password":"1234567890"}`, `{"new_password":["This password is too common.","This password is entirely numeric."]}`},
		// Django answers only the similarity message; "testuser" is also on zxcvbn's list
		// of common passwords, which ciphemic's list adds to Django's.
		{"username", `{"old_password":"password","new_password":"TESTUSER"}`, `{"new_password":["The password is too similar to the username.","This password is too common."]}`},
	}
	for _, tt := range tests {
		r := in.postJSON(t, "/api/me/password/", tt.body, auth)
		if r.status != 400 || string(r.body) != tt.want {
			t.Errorf("%s: = %d %s, want 400 %s", tt.name, r.status, r.body, tt.want)
		}
	}

	r := in.postJSON(t, "/api/me/password/", `{"old_password":"password","new_password":"a-long-new-one"}`, auth)
	if r.status != 200 {
		t.Fatalf("password change = %d %s, want 200", r.status, r.body)
	}
	newAccess, newRefresh := r.str(t, "access"), r.str(t, "refresh")
	wantStatusBody(t, in.get(t, "/api/me/", access), 401, bodyAccessBad)
	wantStatusBody(t, in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}), 401, bodyBlacklisted)
	if r := in.get(t, "/api/me/", newAccess); r.status != 200 {
		t.Errorf("new access after password change = %d %s, want 200", r.status, r.body)
	}
	if r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": newRefresh}); r.status != 200 {
		t.Errorf("new refresh after password change = %d %s, want 200", r.status, r.body)
	}
	wantStatusBody(t, in.postJSON(t, "/api/token/", `{"username":"testuser","password":"password"}`), 401, bodyNoAccount)
	in.login(t, "testuser", "a-long-new-one")
}

// changeAttempt posts a password change from old to a valid new password with access, and
// returns its status with the Retry-After of a 429, as attempt does for logins.
func (in *instance) changeAttempt(t *testing.T, access, old string) string {
	t.Helper()
	r := in.postJSON(t, "/api/me/password/", map[string]string{"old_password": old, "new_password": "a-long-new-one"},
		"Authorization: Bearer "+access)
	if r.status == http.StatusTooManyRequests {
		return fmt.Sprintf("429 %ss", r.header.Get("Retry-After"))
	}
	return fmt.Sprint(r.status)
}

// TestPasswordChangeThrottled: wrong old passwords count against the user's login back-off,
// so that a stolen access token buys no guesses at hashing speed: past the free failures
// the answer is 429 with Retry-After, even for the right old password, which is not
// checked; when the block ends the right one works.
func TestPasswordChangeThrottled(t *testing.T) {
	in := throttled(t, fewFree, false, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	access, _ := in.login(t, "alice", "password")
	var got []string
	for range 4 {
		got = append(got, in.changeAttempt(t, access, "wrong"))
	}
	got = append(got, in.changeAttempt(t, access, "password"))
	wantStatusBody(t, in.postJSON(t, "/api/me/password/", `{"old_password":"wrong","new_password":"a-long-new-one"}`, "Authorization: Bearer "+access),
		http.StatusTooManyRequests, `{"detail":"Request was throttled. Expected available in 1 second."}`)
	in.clock.Advance(time.Second)
	got = append(got, in.changeAttempt(t, access, "password"))
	wantAttempts(t, "wrong old passwords, then the right one", got, []string{"400", "400", "400", "429 1s", "429 1s", "200"})
	in.login(t, "alice", "a-long-new-one")
}

// TestPasswordChangeSharesLoginBackoff: logins and password changes count in one back-off
// per user: failures of either block the other, and a success of either resets it.
func TestPasswordChangeSharesLoginBackoff(t *testing.T) {
	start := func(t *testing.T) (*instance, string) {
		in := throttled(t, fewFree, false, options{})
		in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
		access, _ := in.login(t, "alice", "password")
		return in, access
	}
	t.Run("failed logins block password changes", func(t *testing.T) {
		in, access := start(t)
		got := []string{in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "wrong", ""),
			in.changeAttempt(t, access, "password")}
		wantAttempts(t, "three bad logins, then a password change", got, []string{"401", "401", "401", "429 1s"})
	})
	t.Run("wrong old passwords block logins", func(t *testing.T) {
		in, access := start(t)
		got := []string{in.changeAttempt(t, access, "wrong"), in.changeAttempt(t, access, "wrong"), in.changeAttempt(t, access, "wrong"),
			in.attempt(t, "alice", "password", "")}
		wantAttempts(t, "three wrong old passwords, then a login", got, []string{"400", "400", "400", "429 1s"})
	})
	t.Run("a password change resets the count", func(t *testing.T) {
		in, access := start(t)
		got := []string{in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "wrong", ""), in.changeAttempt(t, access, "password"),
			in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "wrong", "")}
		wantAttempts(t, "two bad logins, a password change, two bad logins", got, []string{"401", "401", "200", "401", "401"})
	})
}

func TestJWKSAndOps(t *testing.T) {
	in := newInstance(t, options{})
	r := in.get(t, "/.well-known/jwks.json", "")
	wantStatusBody(t, r, 200, `{"keys":[]}`)
	wantStatusBody(t, in.get(t, "/healthz", ""), 200, `{"status":"ok"}`)
	wantStatusBody(t, in.get(t, "/readyz", ""), 200, `{"status":"ready"}`)
	in.db.Close()
	wantStatusBody(t, in.get(t, "/readyz", ""), 503, `{"detail":"Service temporarily unavailable, try again later."}`)
}

func TestRevocationViewStaleFailsClosed(t *testing.T) {
	cfg := Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, RevocationMaxAge: 10 * time.Second}
	in := newInstance(t, options{cfg: &cfg})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(t, "testuser", "password")
	if r := in.get(t, "/api/me/", access); r.status != 200 {
		t.Fatalf("fresh view: GET /api/me/ = %d, want 200", r.status)
	}
	if r := in.postJSON(t, "/api/token/verify/", map[string]string{"token": access}); r.status != 200 {
		t.Fatalf("fresh view: verify = %d %s, want 200", r.status, r.body)
	}
	in.clock.Advance(11 * time.Second)
	wantStatusBody(t, in.get(t, "/api/me/", access), 503, `{"detail":"Service temporarily unavailable, try again later."}`)
	// Verify follows the protected routes' rule: it cannot vouch for an access token it
	// cannot check against revocations.
	wantStatusBody(t, in.postJSON(t, "/api/token/verify/", map[string]string{"token": access}), 503,
		`{"detail":"Service temporarily unavailable, try again later."}`)
	if r := in.get(t, "/readyz", ""); r.status != 503 {
		t.Errorf("stale view: /readyz = %d, want 503", r.status)
	}
}

var _ = token.TypeAccess

// TestRevocationViewFullFailsClosed: a view that had to leave a revocation out cannot
// vouch for any access token, so protected routes and verify answer 503 until it fits.
func TestRevocationViewFullFailsClosed(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	access, _ := in.login(t, "testuser", "password")
	in.view.SetMax(1)
	exp := in.clock.Now().Add(time.Minute)
	in.view.Apply(ciphemic.Revocation{JTI: "one", UserID: 99, ExpiresAt: exp}, ciphemic.Revocation{JTI: "two", UserID: 99, ExpiresAt: exp})
	const unavailable = `{"detail":"Service temporarily unavailable, try again later."}`
	wantStatusBody(t, in.get(t, "/api/me/", access), 503, unavailable)
	wantStatusBody(t, in.postJSON(t, "/api/token/verify/", map[string]string{"token": access}), 503, unavailable)
}

// TestMeConcurrentBodies: GET /api/me/ composes its body in a pooled buffer; under
// concurrent requests of two users each answer is still its own user's, byte for byte
// what the same request answers alone.
func TestMeConcurrentBodies(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "ada", "correct horse battery", ciphemic.RoleStudent)
	in.mustCreateUser(t, "grace", "battery staple horse", ciphemic.RoleTeacher)
	tokens := map[string]string{}
	want := map[string]string{}
	for user, pw := range map[string]string{"ada": "correct horse battery", "grace": "battery staple horse"} {
		access, _ := in.login(t, user, pw)
		tokens[user] = access
		want[user] = string(in.get(t, "/api/me/", access).body)
	}
	if want["ada"] == want["grace"] {
		t.Fatalf("the two users' bodies are alike: %s", want["ada"])
	}
	errs := make(chan error, 2*50)
	var wg sync.WaitGroup
	for user, access := range tokens {
		for range 50 {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, in.srv.URL+"/api/me/", nil)
				req.Header.Set("Authorization", "Bearer "+access)
				resp, err := in.srv.Client().Do(req)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err == nil && string(body) != want[user] {
					err = fmt.Errorf("GET /api/me/ as %s = %s, want %s", user, body, want[user])
				}
				if err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
