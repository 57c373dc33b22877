package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// sessionStore keeps the sessions: one per login, named by the "sid" of its tokens.
type sessionStore interface {
	StartSession(ctx context.Context, s ciphemic.Session, t ciphemic.RefreshToken) error
	TouchSession(ctx context.Context, s ciphemic.Session) error
	Session(ctx context.Context, id string) (ciphemic.Session, error)
	LiveSession(ctx context.Context, f ciphemic.SessionFilter, id string) (ciphemic.Session, error)
	ListSessions(ctx context.Context, f ciphemic.SessionFilter, q ciphemic.ListQuery) ([]ciphemic.Session, int64, error)
	EndOtherSessions(ctx context.Context, userID int64, keep string, at, until time.Time) ([]string, error)
}

// sessionOrdering lists the fields a session list may be ordered by.
var sessionOrdering = []string{"created_at", "last_used_at"}

// sessionBody is one session of GET /api/me/sessions/. user_agent and client_ip are empty
// when unknown (a session from before they were recorded).
type sessionBody struct {
	ID         string  `json:"id"`
	CreatedAt  *string `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	ExpiresAt  *string `json:"expires_at"`
	UserAgent  string  `json:"user_agent"`
	ClientIP   string  `json:"client_ip"`
	Current    bool    `json:"current"`
}

// sessionRenderer renders sessions for the caller p: "current" marks p's own session.
func (s sessions) sessionRenderer(p ciphemic.Principal) func(ciphemic.Session) sessionBody {
	return func(sess ciphemic.Session) sessionBody {
		return sessionBody{
			ID: sess.ID, CreatedAt: formatTime(sess.CreatedAt), LastUsedAt: formatTime(sess.LastUsedAt),
			ExpiresAt: formatTime(s.limits.listedEnd(sess)), UserAgent: sess.UserAgent, ClientIP: sess.ClientIP,
			Current: p.SessionID != "" && sess.ID == p.SessionID,
		}
	}
}

// serveSessions answers with the page of userID's live sessions r asks for, newest first
// unless ?ordering= says otherwise.
func (s sessions) serveSessions(w http.ResponseWriter, r *http.Request, links linkBase, p ciphemic.Principal, userID int64) error {
	lr, err := parseList(r, sessionOrdering)
	if err != nil {
		return err
	}
	if lr.q.OrderBy == "" {
		lr.q.OrderBy, lr.q.Descending = "created_at", true
	}
	f := s.limits.filter(userID, s.now())
	fetch := func(q ciphemic.ListQuery) ([]ciphemic.Session, int64, error) {
		return s.store.ListSessions(r.Context(), f, q)
	}
	servePage(w, r, links, lr, fetch, s.sessionRenderer(p))
	return nil
}

// maxSessionIDLen bounds a session id in a path; no id is longer (token/jti.go).
const maxSessionIDLen = 255

// endSession ends userID's live session id on every instance, or answers 404 for any id
// that is not one: another user's session is as unknown as a missing one, so ids cannot
// be probed.
func (s sessions) endSession(ctx context.Context, userID int64, id string) error {
	if id == "" || len(id) > maxSessionIDLen {
		return errNotFound
	}
	now := s.now()
	if _, err := s.store.LiveSession(ctx, s.limits.filter(userID, now), id); err != nil {
		return err
	}
	return s.revokeFamily(ctx, id, userID, now)
}

// handleMySessions serves GET /api/me/sessions/: the caller's live sessions.
func handleMySessions(s sessions, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := principalFrom(r)
		if err != nil {
			return err
		}
		return s.serveSessions(w, r, links, p, p.UserID)
	})
}

// handleMySessionEnd serves DELETE /api/me/sessions/{id}/: one of the caller's sessions
// ends (the caller's own too, if named); the others keep working.
func handleMySessionEnd(s sessions) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := principalFrom(r)
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := s.endSession(r.Context(), p.UserID, id); err != nil {
			return err
		}
		s.securityEvent(r, ciphemic.AuditSessionEnd, p.UserID, "session "+id)
		noContent(w)
		return nil
	})
}

// handleUserSessions serves GET /api/users/{id}/sessions/ (admins): a user's live sessions.
func handleUserSessions(users userAdminStore, s sessions, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, u, err := adminTarget(r, users)
		if err != nil {
			return err
		}
		return s.serveSessions(w, r, links, p, u.ID)
	})
}

// handleUserSessionEnd serves DELETE /api/users/{id}/sessions/{sid}/ (admins): one of a
// user's sessions ends; the audit trail names the admin who ended it.
func handleUserSessionEnd(users userAdminStore, s sessions) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		_, u, err := adminTarget(r, users)
		if err != nil {
			return err
		}
		sid := r.PathValue("sid")
		if err := s.endSession(r.Context(), u.ID, sid); err != nil {
			return err
		}
		s.audit.record(r, adminEvent(r, ciphemic.AuditSessionEnd, u, "session "+sid))
		noContent(w)
		return nil
	})
}
