package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func mustParse(t *testing.T, s *Service, raw, want string) Claims {
	t.Helper()
	c, err := s.Parse(raw, want)
	if err != nil {
		t.Fatalf("Parse(token, %q) = %v", want, err)
	}
	return c
}

func TestSessionTokens(t *testing.T) {
	s := mustService(t, testConfig(), mustKey(t, "ES256", 0))
	login, lc, err := s.IssueSessionRefresh(7, "", t0)
	if err != nil {
		t.Fatalf("IssueSessionRefresh(new session) = %v", err)
	}
	if lc.SessionID != lc.JTI {
		t.Errorf("IssueSessionRefresh(new session) sid = %q, want its own jti %q", lc.SessionID, lc.JTI)
	}
	if got := decodeSegment(t, login, 1)["sid"]; got != lc.JTI {
		t.Errorf("refresh payload sid = %v, want %q", got, lc.JTI)
	}
	next, nc, err := s.IssueSessionRefresh(7, lc.SessionID, t0)
	if err != nil || nc.SessionID != lc.JTI || nc.JTI == lc.JTI {
		t.Errorf("IssueSessionRefresh(sid) = %+v, %v, want a new jti in session %q", nc, err, lc.JTI)
	}
	access, ac, err := s.IssueSessionAccess(7, []ciphemic.Role{ciphemic.RoleStudent}, lc.SessionID, t0)
	if err != nil || ac.SessionID != lc.JTI {
		t.Fatalf("IssueSessionAccess(sid) = %+v, %v, want session %q", ac, err, lc.JTI)
	}
	for raw, want := range map[string]Claims{login: lc, next: nc, access: ac} {
		if got := mustParse(t, s, raw, ""); !claimsEqual(got, want) || got.SessionID != want.SessionID {
			t.Errorf("Parse(%s token) = %+v, want %+v", want.Type, got, want)
		}
	}
	if _, _, err := s.IssueSessionAccess(7, nil, "", t0); err == nil {
		t.Error(`IssueSessionAccess(sid "") = nil error, want one`)
	}
	// Tokens without a session parse with an empty SessionID.
	plain, _ := mustIssueAccess(t, s, t0)
	if got := mustParse(t, s, plain, TypeAccess); got.SessionID != "" {
		t.Errorf("Parse(token without sid) SessionID = %q, want empty", got.SessionID)
	}
}

func TestResign(t *testing.T) {
	s := mustService(t, testConfig(), mustKey(t, "HS256", 0))
	raw, c, err := s.IssueSessionRefresh(7, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Resign(c)
	if err != nil {
		t.Fatalf("Resign() = %v", err)
	}
	if again != raw { // HMAC is deterministic: the same claims make the same token
		t.Errorf("Resign() = %q, want the token first issued, %q", again, raw)
	}

	tests := []struct {
		name string
		edit func(*Claims)
	}{
		{"unknown type", func(c *Claims) { c.Type = "id" }},
		{"no jti", func(c *Claims) { c.JTI = "" }},
		{"malformed sid", func(c *Claims) { c.SessionID = "a b" }},
		{"no user", func(c *Claims) { c.UserID = 0 }},
		{"exp not after iat", func(c *Claims) { c.ExpiresAt = c.IssuedAt }},
		{"unknown role", func(c *Claims) { c.Roles = []ciphemic.Role{"root"} }},
	}
	for _, tc := range tests {
		bad := c
		tc.edit(&bad)
		if got, err := s.Resign(bad); err == nil {
			t.Errorf("Resign(%s) = %q, nil, want an error", tc.name, got)
		}
	}
}

func TestParseSid(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	tests := []struct {
		sid  string // JSON value, "" to leave the claim out
		want string
		err  error
	}{
		{"", "", nil},
		{"null", "", nil},
		{`"0123456789abcdef0123456789abcdef"`, "0123456789abcdef0123456789abcdef", nil},
		{`""`, "", ErrInvalid},
		{`"a b"`, "", ErrInvalid},
		{`"` + strings.Repeat("a", 65) + `"`, "", ErrInvalid},
		{"42", "", ErrInvalid},
	}
	for _, tc := range tests {
		c, err := s.Parse(mustMint(t, k, header(k, ""), payload("sid", tc.sid)), TypeAccess)
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || c.SessionID != tc.want {
			t.Errorf("Parse(sid %s) = %q, %v, want %q, %v", tc.sid, c.SessionID, err, tc.want, tc.err)
		}
	}
}

func TestRevokedBySession(t *testing.T) {
	clk := &clock{t: t0}
	v := NewRevocationView(clk.now)
	src := &memSource{}
	src.add(ciphemic.Revocation{FamilyID: "fam", UserID: 7, ExpiresAt: t0.Add(time.Minute), CreatedAt: t0})
	mustSync(t, v, src)
	session := func(sid string, issued time.Time) Claims {
		c := accessClaims("x", 7, issued)
		c.SessionID = sid
		return c
	}
	tests := []struct {
		name string
		c    Claims
		want bool
	}{
		{"token of the session", session("fam", t0.Add(-time.Minute)), true},
		{"token of the session issued after the revocation", session("fam", t0.Add(time.Second)), true},
		{"another session of the user", session("other", t0), false},
		{"token without a session", session("", t0), false},
	}
	for _, tc := range tests {
		if got := v.Revoked(tc.c); got != tc.want {
			t.Errorf("Revoked(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	// A repeated revocation with a later expiry keeps the session revoked until then.
	v.Apply(ciphemic.Revocation{FamilyID: "fam", UserID: 7, ExpiresAt: t0.Add(2 * time.Minute), CreatedAt: t0})
	clk.set(t0.Add(90 * time.Second))
	mustSync(t, v, &memSource{})
	if !v.Revoked(session("fam", t0)) {
		t.Error("Revoked(session) after the first expiry = false, want true until the later one")
	}
	clk.set(t0.Add(2 * time.Minute))
	mustSync(t, v, &memSource{})
	if v.Revoked(session("fam", t0)) {
		t.Error("Revoked(session) after its revocation expired = true, want it forgotten")
	}
}
