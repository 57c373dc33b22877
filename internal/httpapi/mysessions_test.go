package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// sessionPage is a decoded page of GET /api/me/sessions/.
type sessionPage struct {
	Count   int64         `json:"count"`
	Results []sessionBody `json:"results"`
}

// loginFrom logs username in with User-Agent ua and returns the pair and its session id.
func (in *instance) loginFrom(t *testing.T, username, pw, ua string, headers ...string) (access, refresh, sid string) {
	t.Helper()
	r := in.postJSON(t, "/api/token/", map[string]string{"username": username, "password": pw}, append(headers, "User-Agent: "+ua)...)
	if r.status != http.StatusOK {
		t.Fatalf("login %q = %d %s", username, r.status, r.body)
	}
	access, refresh = r.str(t, "access"), r.str(t, "refresh")
	return access, refresh, in.mustClaims(t, refresh).SessionID
}

// mustSessions lists path with access and decodes the page.
func (in *instance) mustSessions(t *testing.T, path, access string) sessionPage {
	t.Helper()
	r := in.get(t, path, access)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", path, r.status, r.body)
	}
	var page sessionPage
	mustUnmarshal(t, r.body, &page)
	return page
}

// refreshFrom posts a refresh token with headers.
func (in *instance) refreshFrom(t *testing.T, refresh string, headers ...string) response {
	t.Helper()
	return in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}, headers...)
}

func bearer(access string) string { return "Authorization: Bearer " + access }

func ids(page sessionPage) string {
	var s []string
	for _, r := range page.Results {
		s = append(s, r.ID)
	}
	return strings.Join(s, ",")
}

// TestMySessionsList: each login is one session, listed newest first with its client as
// trusted proxies decide and its user agent cut to 256 characters; a refresh moves
// last_used_at and the client, and ?ordering= follows it.
func TestMySessionsList(t *testing.T) {
	in := newInstance(t, options{cfg: &Config{RotateRefreshTokens: true, BlacklistAfterRotation: true,
		LoginThrottle:  LoginThrottle{Disabled: true},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	_, phoneRefresh, phone := in.loginFrom(t, "alice", "password", "phone/1.0", "X-Forwarded-For: 198.51.100.7")
	in.clock.Advance(time.Minute)
	long := strings.Repeat("ü", 300)
	laptopAccess, _, laptop := in.loginFrom(t, "alice", "password", long, "X-Forwarded-For: 2001:db8::9")
	page := in.mustSessions(t, "/api/me/sessions/", laptopAccess)
	if page.Count != 2 || ids(page) != laptop+","+phone {
		t.Fatalf("sessions = %+v, want the laptop's then the phone's", page)
	}
	first, second := page.Results[0], page.Results[1]
	if !first.Current || second.Current {
		t.Errorf("current = %t, %t; want only the asking token's session", first.Current, second.Current)
	}
	if first.UserAgent != strings.Repeat("ü", 256) || first.ClientIP != "2001:db8::9" || second.UserAgent != "phone/1.0" || second.ClientIP != "198.51.100.7" {
		t.Errorf("clients = %q %q / %q %q, want the 256-character agent and the forwarded addresses", first.UserAgent, first.ClientIP, second.UserAgent, second.ClientIP)
	}
	wantExpiry := in.clock.Now().Add(24 * time.Hour).UTC().Format(drfTimeLayout)
	if first.CreatedAt == nil || *first.ExpiresAt != wantExpiry || *first.LastUsedAt != *first.CreatedAt {
		t.Errorf("laptop times = %v %v %v, want expiry %s", first.CreatedAt, first.LastUsedAt, first.ExpiresAt, wantExpiry)
	}

	in.clock.Advance(time.Minute)
	if r := in.refreshFrom(t, phoneRefresh, "User-Agent: phone/2.0", "X-Forwarded-For: 198.51.100.8"); r.status != 200 {
		t.Fatalf("refresh = %d %s", r.status, r.body)
	}
	page = in.mustSessions(t, "/api/me/sessions/?ordering=-last_used_at", laptopAccess)
	if ids(page) != phone+","+laptop || page.Results[0].UserAgent != "phone/2.0" || page.Results[0].ClientIP != "198.51.100.8" {
		t.Errorf("after the phone's refresh, by -last_used_at = %+v, want the phone first with its new client", page.Results)
	}
	if page = in.mustSessions(t, "/api/me/sessions/?ordering=created_at&page_size=1", laptopAccess); ids(page) != phone || page.Count != 2 {
		t.Errorf("by created_at, page_size 1 = %+v, want the phone's of 2", page)
	}
	wantStatusBody(t, in.get(t, "/api/me/sessions/?ordering=user_agent", laptopAccess), 400,
		`{"ordering":["Invalid ordering. Order by one of: created_at, last_used_at; prefix a field with \"-\" for descending order."]}`)
	wantStatusBody(t, in.get(t, "/api/me/sessions/", ""), 401, bodyNotProvided)
}

// TestMySessionEndAcrossInstances: two sessions of one user on two instances; ending one
// from the other instance stops its access token on both (once the view syncs) and its
// refresh token, while the other session keeps working.
func TestMySessionEndAcrossInstances(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := newInstance(t, options{dbPath: dbPath, clock: clock})
	b := newInstance(t, options{dbPath: dbPath, clock: clock})
	a.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	accessA, refreshA, sidA := a.loginFrom(t, "alice", "password", "on a")
	accessB, refreshB, _ := b.loginFrom(t, "alice", "password", "on b")
	if r := a.get(t, "/api/me/", accessA); r.status != 200 {
		t.Fatalf("session A before = %d", r.status)
	}
	r := b.do(t, http.MethodDelete, "/api/me/sessions/"+sidA+"/", "", nil, bearer(accessB))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE session A on b = %d %s, want 204", r.status, r.body)
	}
	wantStatusBody(t, b.get(t, "/api/me/", accessA), 401, bodyAccessBad)
	if err := a.view.Sync(t.Context(), a.db); err != nil {
		t.Fatal(err)
	}
	wantStatusBody(t, a.get(t, "/api/me/", accessA), 401, bodyAccessBad)
	wantStatusBody(t, a.refresh(t, refreshA), 401, bodyBlacklisted)
	for _, in := range []*instance{a, b} {
		if r := in.get(t, "/api/me/", accessB); r.status != 200 {
			t.Errorf("session B after A ended = %d %s, want 200", r.status, r.body)
		}
	}
	if r := a.refresh(t, refreshB); r.status != 200 {
		t.Errorf("refresh of session B = %d %s, want 200", r.status, r.body)
	}
	if page := a.mustSessions(t, "/api/me/sessions/", accessB); page.Count != 1 || page.Results[0].ID == sidA {
		t.Errorf("sessions after ending A = %+v, want only B", page)
	}
	// Ended is as unknown as never started.
	wantStatusBody(t, b.do(t, http.MethodDelete, "/api/me/sessions/"+sidA+"/", "", nil, bearer(accessB)), 404, `{"detail":"Not found."}`)
}

// TestSessionOfAnotherUser: a user can neither list nor end another user's session: the
// admin routes are 403 and another user's session id is 404, exactly as an unknown one.
func TestSessionOfAnotherUser(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	bob := in.mustCreateUser(t, "bob", "password", ciphemic.RoleStudent)
	aliceAccess, _, _ := in.loginFrom(t, "alice", "password", "a")
	bobAccess, _, bobSID := in.loginFrom(t, "bob", "password", "b")
	for _, id := range []string{bobSID, strings.Repeat("0", 32), "x", strings.Repeat("f", 300)} {
		wantStatusBody(t, in.do(t, http.MethodDelete, "/api/me/sessions/"+id+"/", "", nil, bearer(aliceAccess)), 404, `{"detail":"Not found."}`)
	}
	if r := in.get(t, "/api/me/", bobAccess); r.status != 200 {
		t.Errorf("bob's session after alice's attempt = %d, want 200", r.status)
	}
	if page := in.mustSessions(t, "/api/me/sessions/", aliceAccess); page.Count != 1 || ids(page) == bobSID {
		t.Errorf("alice's list = %+v, want her one session only", page)
	}
	forbidden := `{"detail":"You do not have permission to perform this action."}`
	wantStatusBody(t, in.get(t, fmt.Sprintf("/api/users/%d/sessions/", bob.ID), aliceAccess), 403, forbidden)
	wantStatusBody(t, in.do(t, http.MethodDelete, fmt.Sprintf("/api/users/%d/sessions/%s/", bob.ID, bobSID), "", nil, bearer(aliceAccess)), 403, forbidden)
	if r := in.get(t, "/api/me/", bobAccess); r.status != 200 {
		t.Errorf("bob's session after alice's admin attempts = %d, want 200", r.status)
	}
}

// TestAdminUserSessions: an admin lists a user's sessions and ends one of them; the audit
// trail names the admin as actor and the user as subject. Another user's session id under
// this user, or an unknown user, is 404.
func TestAdminUserSessions(t *testing.T) {
	in := newInstance(t, options{})
	admin := in.mustActor(t, "root", ciphemic.RoleAdmin)
	bob := in.mustCreateUser(t, "bob", "password", ciphemic.RoleStudent)
	carol := in.mustCreateUser(t, "carol", "password", ciphemic.RoleStudent)
	bobAccess1, _, sid1 := in.loginFrom(t, "bob", "password", "one")
	bobAccess2, _, sid2 := in.loginFrom(t, "bob", "password", "two")
	_, _, carolSID := in.loginFrom(t, "carol", "password", "c")
	path := fmt.Sprintf("/api/users/%d/sessions/", bob.ID)
	page := in.mustSessions(t, path, admin.access)
	if page.Count != 2 || page.Results[0].Current || page.Results[1].Current {
		t.Errorf("bob's sessions seen by the admin = %+v, want two, neither current", page)
	}
	wantStatusBody(t, in.call(t, admin, "DELETE", path+carolSID+"/", nil), 404, `{"detail":"Not found."}`)
	wantStatusBody(t, in.call(t, admin, "DELETE", "/api/users/9999/sessions/"+sid1+"/", nil), 404, `{"detail":"Not found."}`)
	wantStatusBody(t, in.call(t, admin, "GET", "/api/users/9999/sessions/", nil), 404, `{"detail":"Not found."}`)
	if r := in.call(t, admin, "DELETE", path+sid1+"/", nil); r.status != 204 {
		t.Fatalf("admin DELETE = %d %s, want 204", r.status, r.body)
	}
	wantStatusBody(t, in.get(t, "/api/me/", bobAccess1), 401, bodyAccessBad)
	if r := in.get(t, "/api/me/", bobAccess2); r.status != 200 {
		t.Errorf("bob's other session = %d, want 200", r.status)
	}
	events, _, err := in.db.ListAuditEvents(t.Context(), ciphemic.AuditFilter{Kind: ciphemic.AuditSessionEnd}, ciphemic.ListQuery{Limit: 10})
	if err != nil || len(events) != 1 || events[0].ActorID != admin.user.ID || events[0].UserID != bob.ID || events[0].Detail != "session "+sid1 {
		t.Errorf("session.end events = %+v, %v; want one by the admin about bob", events, err)
	}
	_ = sid2
	_ = carol
}

// TestRevokeAllScopes: scope "others" ends exactly the caller's other sessions (access
// and refresh tokens) and keeps the caller's; "global", also with no body, ends all; any
// other scope is a DRF choice error.
func TestRevokeAllScopes(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	keepAccess, keepRefresh, keepSID := in.loginFrom(t, "alice", "password", "keep")
	access2, refresh2, _ := in.loginFrom(t, "alice", "password", "two")
	access3, refresh3, _ := in.loginFrom(t, "alice", "password", "three")

	wantStatusBody(t, in.postJSON(t, "/api/token/revoke-all/", `{"scope":"mine"}`, bearer(keepAccess)), 400, `{"scope":["\"mine\" is not a valid choice."]}`)
	wantStatusBody(t, in.postJSON(t, "/api/token/revoke-all/", `{"scope":null}`, bearer(keepAccess)), 400, `{"scope":["This field may not be null."]}`)
	wantStatusBody(t, in.postJSON(t, "/api/token/revoke-all/", `{"scope":"others"}`, bearer(keepAccess)), 200, `{}`)
	for _, a := range []string{access2, access3} {
		wantStatusBody(t, in.get(t, "/api/me/", a), 401, bodyAccessBad)
	}
	for _, rt := range []string{refresh2, refresh3} {
		wantStatusBody(t, in.refresh(t, rt), 401, bodyBlacklisted)
	}
	if r := in.get(t, "/api/me/", keepAccess); r.status != 200 {
		t.Errorf("the caller's access token after scope others = %d, want 200", r.status)
	}
	if page := in.mustSessions(t, "/api/me/sessions/", keepAccess); ids(page) != keepSID || !page.Results[0].Current {
		t.Errorf("sessions after scope others = %+v, want exactly the caller's", page)
	}
	r := in.refresh(t, keepRefresh)
	if r.status != 200 {
		t.Fatalf("the caller's refresh after scope others = %d %s, want 200", r.status, r.body)
	}
	fresh := r.str(t, "access")
	in.clock.Advance(time.Second)
	wantStatusBody(t, in.do(t, http.MethodPost, "/api/token/revoke-all/", "", nil, bearer(fresh)), 200, `{}`)
	wantStatusBody(t, in.get(t, "/api/me/", fresh), 401, bodyAccessBad)
	wantStatusBody(t, in.refresh(t, r.str(t, "refresh")), 401, bodyBlacklisted)
}

// TestPasswordChangeEndsOtherSessions: after a password change the caller's new pair is
// the user's only session.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	other, _, _ := in.loginFrom(t, "alice", "password", "other")
	mine, _, _ := in.loginFrom(t, "alice", "password", "mine")
	r := in.postJSON(t, "/api/me/password/", `{"old_password":"password","new_password":"nq2x-Lv7p-93kd"}`, bearer(mine))
	if r.status != 200 {
		t.Fatalf("password change = %d %s", r.status, r.body)
	}
	fresh := r.str(t, "access")
	wantStatusBody(t, in.get(t, "/api/me/", other), 401, bodyAccessBad)
	page := in.mustSessions(t, "/api/me/sessions/", fresh)
	if page.Count != 1 || !page.Results[0].Current || page.Results[0].ID != in.mustClaims(t, r.str(t, "refresh")).SessionID {
		t.Errorf("sessions after a password change = %+v, want only the new pair's", page)
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
