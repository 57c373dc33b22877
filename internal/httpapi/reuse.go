package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// Refresh-token reuse detection (RFC 9700 §4.14). With rotation, a legitimate client
// presents each refresh token once; when a spent one comes back, either the client or a
// thief holds a copy, and the server cannot tell which. So the whole family is revoked —
// every refresh token descended from the same login and, through the revocation view and
// the tokens' "sid" claim, every access token issued beside them — and whoever is left
// logs in again. The answer is the contract's 401 "Token is blacklisted", as for any
// blacklisted token, so it tells a thief nothing new.
//
// Two browser tabs refreshing with one token at once look exactly like that: the loser of
// the race presents a token the winner has just spent. With a grace window
// (Config.RefreshReuseGrace) the loser gets the winner's successor again, signed anew with
// the same jti, iat and exp, and a new access token; the successor stays one token,
// spendable once, so the old token can never start a second branch. Outside the window, or
// when the successor is no longer live (rotated in turn, logged out, its family revoked),
// it is reuse. The window is a trade-off: during it a thief replaying the token the victim
// has just rotated gets the victim's successor instead of being detected, so keep it to
// the seconds a slow client needs, or at zero when clients serialise their refreshes.

// spentToken is how the store reports a refresh token presented after it was spent
// (store.SpentError), read through an interface so that httpapi does not import the store.
type spentToken interface {
	error
	SpentToken() ciphemic.RefreshToken
	RevokedWithUser() bool
}

// spentRefresh handles err, the failure of presenting a refresh token. When err says the
// token was already spent and presenting it is reuse, it answers from the grace window
// when graceAllowed and the window covers it, and otherwise revokes the token's family and
// reports it, returning err (401 "Token is blacklisted"). Other errors pass unchanged.
func (s sessions) spentRefresh(r *http.Request, err error, graceAllowed bool) (refreshBody, error) {
	rt, ok := reusedToken(err)
	if !ok {
		return refreshBody{}, err
	}
	now := s.now()
	if graceAllowed && s.inGrace(rt, now) {
		body, graceErr := s.graceSuccessor(r.Context(), rt, now)
		// The successor being unusable only means the window does not apply; a store
		// failure is answered as one, without revoking anything.
		if graceErr == nil {
			s.events.rotationLost()
		}
		if graceErr == nil || ciphemic.ErrorCode(graceErr) != ciphemic.CodeUnauthorized {
			return body, graceErr
		}
	}
	if killErr := s.revokeFamily(r.Context(), rt.FamilyID, rt.UserID, now); killErr != nil {
		return refreshBody{}, killErr
	}
	s.reportReuse(r, rt, now)
	s.events.reuseDetected()
	return refreshBody{}, err
}

// reusedToken returns the record of the spent refresh token err reports, and whether
// presenting it counts as reuse.
//
// A token spent by rotation is reuse. So is a token that was logged out: logout
// blacklists that one token only, so when it is replayed it has leaked, and its family
// may live on in a thief's successor tokens; revoking the family is the safe choice. A
// token ended by a user-level revocation (revoke-all, password change, an administrator)
// and never rotated is not: every other device of the user presents one next, and the
// family already died with all the user's tokens.
func reusedToken(err error) (ciphemic.RefreshToken, bool) {
	var spent spentToken
	if !errors.As(err, &spent) {
		return ciphemic.RefreshToken{}, false
	}
	rt := spent.SpentToken()
	if rt.FamilyID == "" || (spent.RevokedWithUser() && rt.ReplacedBy == "") {
		return rt, false
	}
	return rt, true
}

// inGrace reports whether rt, spent by a rotation, comes back within the grace window of
// that rotation.
func (s sessions) inGrace(rt ciphemic.RefreshToken, now time.Time) bool {
	return s.reuseGrace > 0 && rt.ReplacedBy != "" && now.Sub(rt.BlacklistedAt) <= s.reuseGrace
}

// graceSuccessor answers with the successor the rotation of rt issued, signed anew with
// the same claims, and a new access token of the family. It only reads, so any number of
// racing losers get the same successor and none records a token. An unusable successor
// is a CodeUnauthorized error.
func (s sessions) graceSuccessor(ctx context.Context, rt ciphemic.RefreshToken, now time.Time) (refreshBody, error) {
	next, user, err := s.store.LiveRefreshToken(ctx, rt.ReplacedBy, now)
	if err != nil {
		return refreshBody{}, err
	}
	if next.FamilyID != rt.FamilyID {
		return refreshBody{}, fmt.Errorf("successor of another family: %w", ciphemic.ErrTokenUnknown)
	}
	refresh, err := s.tokens.Resign(token.Claims{
		Type: token.TypeRefresh, JTI: next.JTI, UserID: next.UserID, SessionID: next.FamilyID,
		IssuedAt: next.IssuedAt, ExpiresAt: next.ExpiresAt,
	})
	if err != nil {
		return refreshBody{}, fmt.Errorf("resign successor: %w", err)
	}
	s.events.issued(true)
	access, err := s.issueAccess(user, next.FamilyID, now)
	if err != nil {
		return refreshBody{}, err
	}
	return refreshBody{Access: access, Refresh: refresh}, nil
}

// reportReuse logs the revocation of rt's family as a security warning and event. It names
// the user, the family and the client, never any token text.
func (s sessions) reportReuse(r *http.Request, rt ciphemic.RefreshToken, now time.Time) {
	// Without a successor the token was blacklisted by a logout or an earlier family
	// revocation: the store does not tell these apart.
	spentBy := "blacklist"
	if rt.ReplacedBy != "" {
		spentBy = "rotation"
	}
	client := s.proxies.clientIP(r).String()
	loggerFrom(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "refresh token reuse detected",
		slog.Int64("user_id", rt.UserID),
		slog.String("family", rt.FamilyID),
		slog.String("client", client),
		slog.String("spent_by", spentBy),
		slog.Duration("since_spent", now.Sub(rt.BlacklistedAt)),
	)
	s.securityEvent(r, ciphemic.AuditTokenReuse, rt.UserID, fmt.Sprintf(
		"refresh token spent by %s presented again from %s; family %s revoked", spentBy, client, rt.FamilyID))
}
