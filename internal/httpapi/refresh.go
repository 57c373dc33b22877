package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// errTokenInvalid is the refresh/verify/blacklist answer for any token that does not verify.
var errTokenInvalid = tokenError{detail: msgTokenInvalid}

// refreshBody is simplejwt's TokenRefreshView answer: access first; refresh only when
// rotating.
type refreshBody struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh,omitempty"`
}

type emptyBody struct{}

// readTokenField decodes the body and reads its one token field.
func readTokenField(r *http.Request, field string) (string, error) {
	body, err := decodeBody(r, false)
	if err != nil {
		return "", err
	}
	errs := newFieldErrors()
	raw := body.stringField(errs, field, true)
	return raw, errs.errOrNil()
}

// handleTokenRefresh serves POST /api/token/refresh/. With rotation the presented token is
// spent by one conditional UPDATE, so of concurrent refreshes with one token exactly one
// wins (simplejwt lets several through). A token that was already spent is reuse, handled
// by spentRefresh: within the grace window the same successor again, otherwise its whole
// family is revoked.
func handleTokenRefresh(s sessions, rotate, blacklistAfterRotation bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, fromCookie, err := s.cookies.refreshToken(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		claims, err := s.tokens.Parse(raw, token.TypeRefresh)
		if err != nil {
			writeError(w, r, errTokenInvalid)
			return
		}
		if claims, err = resolveDjangoUser(r.Context(), s.store, claims); err != nil {
			writeError(w, r, asTokenInvalid(err))
			return
		}
		var body refreshBody
		event := s.audit.complete(r, ciphemic.AuditEvent{Kind: ciphemic.AuditTokenRefresh, ActorID: claims.UserID, UserID: claims.UserID})
		if rotate {
			body, err = rotateRefresh(r, s, claims, blacklistAfterRotation, event)
		} else {
			body, err = refreshAccess(r, s, claims)
		}
		stored := err == nil && rotate
		if err != nil {
			// Only with blacklist-after-rotation is a rotated token dead, so only then can a
			// tab that lost a refresh race need the grace window.
			body, err = s.spentRefresh(r, err, rotate && blacklistAfterRotation)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.events.refreshed()
		if stored {
			s.audit.log(r, event) // the rotation's transaction stored it
		} else {
			s.audit.record(r, event)
		}
		s.cookies.writeRefresh(w, r, body, fromCookie)
	})
}

// refreshAccess checks the refresh token of claims without spending it and issues an
// access token of its family for the user's current role (no rotation).
func refreshAccess(r *http.Request, s sessions, claims token.Claims) (refreshBody, error) {
	now := s.now()
	sid, err := s.familyOf(r.Context(), claims)
	if err != nil {
		return refreshBody{}, err
	}
	sess, err := s.refreshSession(r.Context(), claims, sid, now)
	if err != nil {
		return refreshBody{}, err
	}
	user, err := s.store.UseRefreshToken(r.Context(), claims.JTI, now)
	if err != nil {
		return refreshBody{}, err
	}
	access, err := s.issueAccess(user, sid, now)
	if err != nil {
		return refreshBody{}, err
	}
	return refreshBody{Access: access}, s.touchSession(r, sess, now, claims.ExpiresAt)
}

// rotateRefresh spends the refresh token of claims and issues its successor, of the same
// family, and an access token for the user's current role. The audit event e and the
// session's record of this refresh are stored in the rotation's transaction. A token of
// the Django server (no kid) that the store has no record of is recorded in that
// transaction too, when the cut-over allows it (cutover.go).
func rotateRefresh(r *http.Request, s sessions, claims token.Claims, blacklistOld bool, e ciphemic.AuditEvent) (refreshBody, error) {
	now := s.now()
	django := claims.KeyID == ""
	sid, err := s.familyOf(r.Context(), claims)
	if django && errors.Is(err, ciphemic.ErrTokenUnknown) {
		sid, err = claims.JTI, nil
	}
	if err != nil {
		return refreshBody{}, err
	}
	sess, err := s.refreshSession(r.Context(), claims, sid, now)
	if err != nil {
		return refreshBody{}, err
	}
	next, nc, err := s.issueSessionRefresh(sess, now)
	if err != nil {
		return refreshBody{}, err
	}
	rec := ciphemic.RefreshToken{JTI: nc.JTI, UserID: claims.UserID, FamilyID: sid, IssuedAt: nc.IssuedAt, ExpiresAt: nc.ExpiresAt}
	touch := s.touched(r, sess, now, nc.ExpiresAt)
	var user ciphemic.User
	if django {
		user, err = s.store.RotateDjangoRefreshToken(r.Context(), djangoRecord(claims, sid), rec, blacklistOld, now,
			s.tokens.Config().RefreshLifetime, e, &touch)
	} else {
		user, err = s.store.RotateSessionRefreshToken(r.Context(), claims.JTI, rec, blacklistOld, now, e, touch)
	}
	if err != nil {
		return refreshBody{}, err
	}
	s.events.issued(true)
	access, err := s.issueAccess(user, sid, now)
	if err != nil {
		return refreshBody{}, err
	}
	return refreshBody{Access: access, Refresh: next}, nil
}

// familyOf returns the family of the refresh token of claims: its "sid", or, for a token
// issued before tokens carried one, the family its store record names.
func (s sessions) familyOf(ctx context.Context, claims token.Claims) (string, error) {
	if claims.SessionID != "" {
		return claims.SessionID, nil
	}
	rt, err := s.store.RefreshToken(ctx, claims.JTI)
	if ciphemic.ErrorCode(err) == ciphemic.CodeNotFound {
		return "", ciphemic.ErrTokenUnknown
	}
	if err != nil {
		return "", err
	}
	return rt.FamilyID, nil
}

// handleTokenVerify serves POST /api/token/verify/: 200 {} for a token of either type that
// verifies and is not blacklisted or revoked; 401 otherwise. An access token is checked
// against the revocation view as on a protected route, so it fails closed (503) in the
// same way when the view is stale.
func handleTokenVerify(s sessions, authn authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := readTokenField(r, "token")
		if err != nil {
			writeError(w, r, err)
			return
		}
		claims, err := s.tokens.Parse(raw, "")
		if err != nil {
			writeError(w, r, errTokenInvalid)
			return
		}
		if claims, err = resolveDjangoUser(r.Context(), s.store, claims); err != nil {
			writeError(w, r, asTokenInvalid(err))
			return
		}
		if claims.Type == token.TypeAccess {
			if err := authn.checkFresh(); err != nil {
				writeError(w, r, err)
				return
			}
			if s.view.Revoked(claims) {
				writeError(w, r, errTokenInvalid)
				return
			}
		}
		if claims.Type == token.TypeRefresh {
			if err := s.useAnyRefresh(r.Context(), claims); err != nil {
				writeError(w, r, asTokenInvalid(err))
				return
			}
		}
		encode(w, r, http.StatusOK, emptyBody{})
	})
}

// asTokenInvalid folds every "this token is no good" store answer into the one verify
// answer, and passes real failures (store down) through.
func asTokenInvalid(err error) error {
	switch {
	case errors.Is(err, ciphemic.ErrTokenBlacklisted), errors.Is(err, ciphemic.ErrTokenUnknown),
		errors.Is(err, ciphemic.ErrUserInactive), ciphemic.ErrorCode(err) == ciphemic.CodeNotFound:
		return errTokenInvalid
	}
	return err
}

// handleTokenBlacklist serves POST /api/token/blacklist/ (logout). When the caller also
// sends its access token, that token stops working too, on every instance within a
// revocation sync, instead of living out its five minutes.
func handleTokenBlacklist(s sessions, authn authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, fromCookie, err := s.cookies.refreshToken(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if fromCookie {
			w = s.cookies.clearOnLogout(w)
		}
		claims, err := s.tokens.Parse(raw, token.TypeRefresh)
		if err != nil {
			writeError(w, r, errTokenInvalid)
			return
		}
		if claims, err = resolveDjangoUser(r.Context(), s.store, claims); err != nil {
			writeError(w, r, asTokenInvalid(err))
			return
		}
		if err := s.blacklistAnyRefresh(r.Context(), claims); err != nil {
			// Logging out with a spent token is reuse too; revoking its family is also what
			// the user asked for when another tab had rotated the token meanwhile.
			_, err = s.spentRefresh(r, err, false)
			writeError(w, r, err)
			return
		}
		// Only the owner's access token is revoked; a stranger's header is ignored.
		if p, err := authn.principal(r); err == nil && p.UserID == claims.UserID {
			if err := s.revokeAccessToken(r.Context(), p); err != nil {
				writeError(w, r, err)
				return
			}
		}
		s.audit.record(r, ciphemic.AuditEvent{Kind: ciphemic.AuditLogout, ActorID: claims.UserID, UserID: claims.UserID})
		encode(w, r, http.StatusOK, emptyBody{})
	})
}
