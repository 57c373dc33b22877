package httpapi

import (
	"net/http"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The logout scopes of POST /api/token/revoke-all/, as GoTrue names them.
const (
	scopeGlobal = "global" // every session of the user, the caller's too
	scopeOthers = "others" // every session but the caller's
)

// readScope reads the optional {"scope": "global" | "others"} body; no body, or no
// scope, is global, the endpoint's meaning before scopes.
func readScope(r *http.Request) (string, error) {
	body, err := decodeBody(r, false)
	if err != nil {
		return "", err
	}
	errs := newFieldErrors()
	scope, ok := body.char(errs, "scope", charRule{})
	if err := errs.errOrNil(); err != nil {
		return "", err
	}
	switch {
	case !ok:
		return scopeGlobal, nil
	case scope != scopeGlobal && scope != scopeOthers:
		errs.add("scope", `"`+scope+`" is not a valid choice.`)
		return "", errs
	}
	return scope, nil
}

// handleRevokeAll serves POST /api/token/revoke-all/: logout everywhere, or with scope
// "others" everywhere but here (the caller's session, its access and refresh tokens,
// keeps working).
func handleRevokeAll(s sessions) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := principalFrom(r)
		if err != nil {
			return err
		}
		scope, err := readScope(r)
		if err != nil {
			return err
		}
		if scope == scopeOthers {
			err = s.endOtherSessions(r, p)
		} else {
			err = s.revokeUser(r.Context(), p.UserID, s.now())
		}
		if err != nil {
			return err
		}
		e := ciphemic.AuditEvent{Kind: ciphemic.AuditRevokeAll, ActorID: p.UserID, UserID: p.UserID}
		if scope == scopeOthers {
			e.Detail = "scope others: the caller's session kept"
		}
		s.audit.record(r, e)
		encode(w, r, http.StatusOK, emptyBody{})
		return nil
	})
}

// endOtherSessions ends every session of p's user but p's own, here at once and on the
// other instances on their next sync.
func (s sessions) endOtherSessions(r *http.Request, p ciphemic.Principal) error {
	at := s.now()
	until := s.revocationUntil(at)
	ended, err := s.store.EndOtherSessions(r.Context(), p.UserID, p.SessionID, at, until)
	if err != nil {
		return err
	}
	for _, id := range ended {
		s.view.Apply(ciphemic.Revocation{FamilyID: id, UserID: p.UserID, ExpiresAt: until, CreatedAt: at})
		s.events.revoked(revokedSession)
	}
	return nil
}
