package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The passwords of the audit flow: long and distinct, so that finding one in an event
// cannot be a coincidence.
const (
	auditAlicePW  = "alice-Secret-pw-1"
	auditWrongPW  = "mallory-Guess-pw-2"
	auditNewPW    = "alice-Changed-pw-3"
	auditCarolPW  = "carol-Initial-pw-4"
	auditCarolPW2 = "carol-Reset-pw-5"
)

// auditFlow drives every kind of audit event through the real handlers, behind a trusted
// proxy, and checks after each request the one event it added.
type auditFlow struct {
	t       *testing.T
	in      *instance
	seen    int
	kinds   []ciphemic.AuditKind
	secrets []string
}

// auditXFF is the proxy's header: the client sent a forged first hop, the proxy appended
// the real client, 203.0.113.7.
const auditXFF = "X-Forwarded-For: 198.51.100.1, 203.0.113.7"

// mustAuditEvents returns every stored event, oldest first.
func (in *instance) mustAuditEvents(t testing.TB, f ciphemic.AuditFilter) []ciphemic.AuditEvent {
	t.Helper()
	events, _, err := in.db.ListAuditEvents(context.Background(), f, ciphemic.ListQuery{})
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	return events
}

// expect checks that r has status and added exactly one event, want, recorded with the
// client behind the proxy and r's request id. It keeps r's tokens as secrets.
func (f *auditFlow) expect(r response, status int, want ciphemic.AuditEvent) {
	f.t.Helper()
	f.keepTokens(r)
	if r.status != status {
		f.t.Fatalf("%s: status %d %s, want %d", want.Kind, r.status, r.body, status)
	}
	events := f.in.mustAuditEvents(f.t, ciphemic.AuditFilter{})
	added := events[f.seen:]
	f.seen = len(events)
	if len(added) != 1 {
		f.t.Fatalf("%s: request added events %+v, want exactly one", want.Kind, added)
	}
	got := added[0]
	if !got.At.Equal(f.in.clock.Now()) {
		f.t.Errorf("%s: event at %v, want now %v", want.Kind, got.At, f.in.clock.Now())
	}
	want.ID, want.At = got.ID, got.At
	want.ClientIP, want.RequestID = "203.0.113.7", r.header.Get("X-Request-Id")
	if got != want || want.RequestID == "" {
		f.t.Errorf("%s: event\n %+v, want\n %+v", want.Kind, got, want)
	}
	f.kinds = append(f.kinds, got.Kind)
}

// keepTokens adds the tokens r's body holds to the secrets.
func (f *auditFlow) keepTokens(r response) {
	var body map[string]any
	if json.Unmarshal(r.body, &body) != nil {
		return
	}
	for _, k := range []string{"access", "refresh"} {
		if s, ok := body[k].(string); ok {
			f.secrets = append(f.secrets, s)
		}
	}
}

// post sends a JSON body through the proxy, with a bearer token when access is set.
func (f *auditFlow) post(path string, body any, access string) response {
	f.t.Helper()
	headers := []string{auditXFF}
	if access != "" {
		headers = append(headers, "Authorization: Bearer "+access)
	}
	return f.in.postJSON(f.t, path, body, headers...)
}

func (f *auditFlow) login(username, pw string) response {
	f.t.Helper()
	return f.post("/api/token/", map[string]string{"username": username, "password": pw}, "")
}

// runAuditFlow runs the whole flow on a new server and returns it.
func runAuditFlow(t *testing.T) *auditFlow {
	in := newInstance(t, options{cfg: &Config{
		RotateRefreshTokens: true, BlacklistAfterRotation: true,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		LoginThrottle:  LoginThrottle{FreeFailures: 1, BaseDelay: time.Hour},
	}})
	f := &auditFlow{t: t, in: in, secrets: []string{auditAlicePW, auditWrongPW, auditNewPW, auditCarolPW, auditCarolPW2, testSecret}}
	alice := in.mustCreateUser(t, "alice", auditAlicePW, ciphemic.RoleStudent)
	f.secrets = append(f.secrets, alice.PasswordHash)
	f.accountSteps(alice)
	admin := in.mustActor(t, "root", ciphemic.RoleAdmin)
	f.secrets = append(f.secrets, admin.access)
	f.adminSteps(admin)
	return f
}

// accountSteps are alice's logins, tokens and account, and mallory's guesses.
func (f *auditFlow) accountSteps(alice ciphemic.User) {
	self := func(kind ciphemic.AuditKind) ciphemic.AuditEvent {
		return ciphemic.AuditEvent{Kind: kind, ActorID: alice.ID, UserID: alice.ID, Username: "alice"}
	}
	r := f.login("alice", auditAlicePW)
	f.expect(r, 200, self(ciphemic.AuditLoginSuccess))
	first := r.str(f.t, "refresh")
	// An unknown username is recorded only as a hash: it may be a password typed in the
	// wrong field.
	f.expect(f.login(auditWrongPW, auditAlicePW), 401,
		ciphemic.AuditEvent{Kind: ciphemic.AuditLoginFailure, Username: redactedUsername(auditWrongPW)})
	mallory := ciphemic.AuditEvent{Kind: ciphemic.AuditLoginFailure, Username: redactedUsername("mallory")}
	f.expect(f.login("mallory", auditWrongPW), 401, mallory)
	f.expect(f.login("mallory", auditWrongPW), 401, mallory) // earns a block
	mallory.Kind = ciphemic.AuditLoginThrottled
	f.expect(f.login("mallory", auditWrongPW), 429, mallory)

	f.expect(f.post("/api/token/refresh/", map[string]string{"refresh": first}, ""), 200, self(ciphemic.AuditTokenRefresh))
	reuse := ciphemic.AuditEvent{Kind: ciphemic.AuditTokenReuse, UserID: alice.ID, Username: "alice",
		Detail: "refresh token spent by rotation presented again from 203.0.113.7; family " +
			f.in.mustClaims(f.t, first).JTI + " revoked"}
	f.expect(f.post("/api/token/refresh/", map[string]string{"refresh": first}, ""), 401, reuse)

	r = f.login("alice", auditAlicePW)
	f.expect(r, 200, self(ciphemic.AuditLoginSuccess))
	f.expect(f.post("/api/token/blacklist/", map[string]string{"refresh": r.str(f.t, "refresh")}, ""), 200, self(ciphemic.AuditLogout))
	r = f.login("alice", auditAlicePW)
	f.expect(r, 200, self(ciphemic.AuditLoginSuccess))
	access := r.str(f.t, "access")
	f.expect(f.post("/api/token/revoke-all/", `{}`, access), 200, self(ciphemic.AuditRevokeAll))
	f.in.clock.Advance(time.Second) // tokens of the revoke-all's second are revoked
	r = f.login("alice", auditAlicePW)
	f.expect(r, 200, self(ciphemic.AuditLoginSuccess))
	pw := map[string]string{"old_password": auditAlicePW, "new_password": auditNewPW}
	f.expect(f.post("/api/me/password/", pw, r.str(f.t, "access")), 200, self(ciphemic.AuditPasswordChange))
}

// adminSteps are root's administration of carol.
func (f *auditFlow) adminSteps(admin actor) {
	call := func(method, path string, body any) response {
		return f.in.call(f.t, admin, method, path, body, auditXFF)
	}
	r := call("POST", "/api/users/", map[string]any{
		"username": "carol", "password": auditCarolPW, "email": "carol@example.com", "roles": []string{"teacher"},
	})
	var created struct{ ID int64 }
	_ = json.Unmarshal(r.body, &created)
	carol := func(kind ciphemic.AuditKind, detail string) ciphemic.AuditEvent {
		return ciphemic.AuditEvent{Kind: kind, ActorID: admin.user.ID, UserID: created.ID, Username: "carol", Detail: detail}
	}
	f.expect(r, 201, carol(ciphemic.AuditUserCreate, ""))
	u, err := f.in.db.User(context.Background(), created.ID)
	if err != nil {
		f.t.Fatalf("User(carol): %v", err)
	}
	f.secrets = append(f.secrets, u.PasswordHash)
	path := fmt.Sprintf("/api/users/%d/", created.ID)
	login := f.login("carol", auditCarolPW)
	f.expect(login, 200, ciphemic.AuditEvent{Kind: ciphemic.AuditLoginSuccess, ActorID: created.ID, UserID: created.ID, Username: "carol"})
	sid := f.in.mustClaims(f.t, login.str(f.t, "refresh")).SessionID
	f.expect(call("DELETE", path+"sessions/"+sid+"/", nil), 204, carol(ciphemic.AuditSessionEnd, "session "+sid))
	patch := map[string]any{"password": auditCarolPW2, "email": "c@example.com", "first_name": "", "is_active": true}
	f.expect(call("PATCH", path, patch), 200, carol(ciphemic.AuditUserUpdate, "changed: password, email; tokens revoked"))
	f.expect(call("POST", path+"revoke/", nil), 200, carol(ciphemic.AuditUserRevoke, ""))
	f.expect(call("DELETE", path, nil), 204, carol(ciphemic.AuditUserDelete, ""))
}

// TestAuditEventKinds: every kind of event is recorded by the real handlers with the
// right user, actor, client address (the proxy's, not the forged hop) and request id.
func TestAuditEventKinds(t *testing.T) {
	f := runAuditFlow(t)
	for _, kind := range ciphemic.AuditKinds() {
		if !slices.Contains(f.kinds, kind) {
			t.Errorf("the flow recorded no %s event", kind)
		}
	}
}

// TestAuditNoSecrets: after the whole flow, no field of any event holds a password, a
// hash, a signing key or any part of a token.
func TestAuditNoSecrets(t *testing.T) {
	f := runAuditFlow(t)
	var secrets []string
	for _, s := range f.secrets {
		secrets = append(secrets, s)
		if strings.Count(s, ".") == 2 { // a JWT: also each segment
			secrets = append(secrets, strings.Split(s, ".")...)
		}
	}
	events := f.in.mustAuditEvents(t, ciphemic.AuditFilter{})
	if len(events) < len(ciphemic.AuditKinds()) {
		t.Fatalf("%d events after the flow, want at least %d", len(events), len(ciphemic.AuditKinds()))
	}
	for _, e := range events {
		for _, field := range []string{e.Username, e.ClientIP, e.RequestID, e.Detail, string(e.Kind)} {
			for _, s := range secrets {
				if len(s) >= 8 && strings.Contains(field, s) {
					t.Errorf("%s event field %q holds a secret (%.6s…)", e.Kind, field, s)
				}
			}
		}
	}
}

// TestAuditClientNotForged: without a trusted proxy the socket's address is recorded,
// whatever X-Forwarded-For claims.
func TestAuditClientNotForged(t *testing.T) {
	in := newInstance(t, options{})
	r := in.postJSON(t, "/api/token/", map[string]string{"username": "nobody", "password": "x"}, auditXFF)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("login = %d %s, want 401", r.status, r.body)
	}
	events := in.mustAuditEvents(t, ciphemic.AuditFilter{})
	if len(events) != 1 || events[0].ClientIP != "127.0.0.1" {
		t.Errorf("events = %+v, want one from 127.0.0.1", events)
	}
}

// TestAuditFailedLoginNamesAccount: a wrong password for an existing account names that
// account (id and username), so an admin can see who is being guessed at.
func TestAuditFailedLoginNamesAccount(t *testing.T) {
	in := newInstance(t, options{})
	bob := in.mustCreateUser(t, "bob", "password", ciphemic.RoleStudent)
	wantStatusBody(t, in.postJSON(t, "/api/token/", `{"username":"bob","password":"wrong-guess"}`), 401, bodyNoAccount)
	events, _, err := in.db.ListAuditEvents(t.Context(), ciphemic.AuditFilter{Kind: ciphemic.AuditLoginFailure}, ciphemic.ListQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].UserID != bob.ID || events[0].Username != "bob" {
		t.Errorf("login.failure events = %+v, want one naming bob (id %d)", events, bob.ID)
	}
}
