package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// sessions issues token pairs and revokes them: the shared mechanics of login, refresh,
// logout, password change and revoke-all.
type sessions struct {
	tokens *token.Service
	store  Store
	view   *token.RevocationView
	now    func() time.Time
	// reuseGrace is Config.RefreshReuseGrace (reuse.go).
	reuseGrace time.Duration
	// proxies name the client address in security logs.
	proxies trustedProxies
	// audit records the audit trail (audit.go).
	audit auditor
	// cookies is the browser mode of refresh tokens (cookies.go); off when zero.
	cookies refreshCookies
	// limits bound how long a session lives (sessionlimits.go).
	limits sessionLimits
	// events counts issued tokens, refreshes and revocations (eventmetrics.go); nil counts
	// nothing.
	events *events
}

// tokenPair is a freshly issued access and refresh token.
type tokenPair struct {
	access, refresh string
}

// issuePair records a new refresh token (the start of a rotation family, whose id is the
// token's jti and the "sid" of every token of the family) and signs an access token
// beside it.
// The login's session is recorded with it, with the client of r (mysessions.go), and the
// refresh token's exp is clamped to the session's bounds (sessionlimits.go).
func (s sessions) issuePair(r *http.Request, user ciphemic.User, at time.Time) (tokenPair, error) {
	refresh, rc, err := s.tokens.IssueSessionRefreshUntil(user.ID, "", at, s.limits.tokenEnd(at, at))
	if err != nil {
		return tokenPair{}, fmt.Errorf("issue refresh token: %w", err)
	}
	sess := ciphemic.Session{CreatedAt: at, LastUsedAt: at, ExpiresAt: rc.ExpiresAt,
		UserAgent: userAgent(r), ClientIP: s.clientAddr(r)}
	err = s.store.StartSession(r.Context(), sess, ciphemic.RefreshToken{
		JTI: rc.JTI, UserID: user.ID, FamilyID: rc.SessionID, IssuedAt: rc.IssuedAt, ExpiresAt: rc.ExpiresAt,
	})
	if err != nil {
		return tokenPair{}, fmt.Errorf("record refresh token: %w", err)
	}
	s.events.issued(true)
	access, err := s.issueAccess(user, rc.SessionID, at)
	return tokenPair{access: access, refresh: refresh}, err
}

// issueAccess signs an access token of the family sid with the user's current role.
func (s sessions) issueAccess(user ciphemic.User, sid string, at time.Time) (string, error) {
	access, _, err := s.tokens.IssueSessionAccess(user.ID, []ciphemic.Role{user.Role}, sid, at)
	if err != nil {
		return "", fmt.Errorf("issue access token: %w", err)
	}
	s.events.issued(false)
	return access, nil
}

// revocationUntil is how long a revocation made at `at` must be remembered: until every
// access token it could concern has expired, leeway included.
func (s sessions) revocationUntil(at time.Time) time.Time {
	cfg := s.tokens.Config()
	return at.Add(cfg.AccessLifetime + cfg.Leeway + time.Second)
}

// revokeUser ends every token of the user issued at or before `at`: refresh tokens in the
// store, access tokens through the revocation view. The local view learns it at once, the
// other instances on their next sync.
func (s sessions) revokeUser(ctx context.Context, userID int64, at time.Time) error {
	until := s.revocationUntil(at)
	if err := s.store.RevokeUser(ctx, userID, at, until); err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	s.view.Apply(ciphemic.Revocation{UserID: userID, ValidAfter: at, ExpiresAt: until, CreatedAt: at})
	s.events.revoked(revokedUser)
	return nil
}

// revokeFamily ends the rotation family familyID of the user everywhere: its refresh
// tokens in the store, its access tokens (by their "sid") through the revocation view.
// The local view learns it at once, the other instances on their next sync.
func (s sessions) revokeFamily(ctx context.Context, familyID string, userID int64, at time.Time) error {
	until := s.revocationUntil(at)
	if err := s.store.RevokeFamily(ctx, familyID, userID, at, until); err != nil {
		return fmt.Errorf("revoke family: %w", err)
	}
	s.view.Apply(ciphemic.Revocation{FamilyID: familyID, UserID: userID, ExpiresAt: until, CreatedAt: at})
	s.events.revoked(revokedSession)
	return nil
}

// securityEvent records a security-relevant event of kind about userID in the audit
// trail, which also logs it (audit.go); detail is a short explanation that never holds a
// secret.
func (s sessions) securityEvent(r *http.Request, kind ciphemic.AuditKind, userID int64, detail string) {
	s.audit.record(r, ciphemic.AuditEvent{Kind: kind, UserID: userID, Detail: detail})
}

// revokeAccessToken ends one access token everywhere.
func (s sessions) revokeAccessToken(ctx context.Context, p ciphemic.Principal) error {
	if err := s.store.RevokeAccessToken(ctx, p.TokenID, p.UserID, p.ExpiresAt); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	s.view.Apply(ciphemic.Revocation{JTI: p.TokenID, UserID: p.UserID, ExpiresAt: p.ExpiresAt, CreatedAt: s.now()})
	s.events.revoked(revokedAccessToken)
	return nil
}
