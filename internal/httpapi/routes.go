package httpapi

import (
	"net/http"
)

// addRoutes is the whole API surface (API.md). Every path is served with and without its
// trailing slash; protected paths authenticate before anything else, as DRF does. It
// returns the router, whose routes() the schema test holds to openapi.json.
func addRoutes(mux *http.ServeMux, cfg Config, deps Deps, m *metrics) *router {
	authn := newAuthenticator(cfg, deps)
	s := sessions{events: m.events, tokens: deps.Tokens, store: deps.Store, view: deps.Revocations, now: cfg.Now,
		reuseGrace: cfg.RefreshReuseGrace, proxies: trustedProxies(cfg.TrustedProxies),
		limits: sessionLimits{idle: cfg.SessionIdleTimeout, max: cfg.SessionMaxLifetime, rotating: cfg.RotateRefreshTokens}}
	s.audit = newAuditor(cfg, deps.Store)
	s.cookies = newRefreshCookies(cfg, deps.Tokens)
	creds := credentials{users: deps.Store, hasher: deps.Passwords}
	user := authn.require
	rt := newRouter(mux)

	gate := newLoginGate(cfg, deps.Store)
	// In cookie mode these answers set the refresh cookie, so they serve trusted pages only.
	setsCookie := s.cookies.guardOrigin
	rt.handle("POST", "/api/token/", nil, setsCookie(handleTokenObtain(creds, gate, s, false)))
	rt.handle("POST", "/login/", nil, setsCookie(handleTokenObtain(creds, gate, s, true)))
	rt.handle("POST", "/api/token/refresh/", nil, setsCookie(handleTokenRefresh(s, cfg.RotateRefreshTokens, cfg.BlacklistAfterRotation)))
	rt.handle("POST", "/api/token/verify/", nil, handleTokenVerify(s, authn))
	rt.handle("POST", "/api/token/blacklist/", nil, handleTokenBlacklist(s, authn))
	rt.handle("POST", "/api/token/revoke-all/", user, handleRevokeAll(s))
	rt.handle("GET", "/.well-known/jwks.json", nil, handleJWKS(deps.Tokens))

	rt.handle("GET", "/api/me/", user, handleMe(deps.Store))
	rt.handle("POST", "/api/me/password/", user, setsCookie(handlePasswordChange(deps.Store, deps.Passwords, cfg.PasswordPolicy, gate, s)))

	school, links := deps.School, newLinkBase(cfg)
	rt.handle("GET", "/api/me/sessions/", user, handleMySessions(s, links))
	rt.handle("DELETE", "/api/me/sessions/{id}/", user, handleMySessionEnd(s))
	rt.handle("GET", "/api/school/courses/", user, handleCourseList(school, links))
	rt.handle("POST", "/api/school/courses/", user, handleCourseCreate(school))
	rt.handle("GET", "/api/school/courses/{id}/", user, handleCourseGet(school))
	rt.handle("PUT", "/api/school/courses/{id}/", user, handleCourseUpdate(school, false))
	rt.handle("PATCH", "/api/school/courses/{id}/", user, handleCourseUpdate(school, true))
	rt.handle("DELETE", "/api/school/courses/{id}/", user, handleCourseDelete(school))
	rt.handle("GET", "/api/school/courses/{id}/students/", user, handleCourseStudents(school, links))
	rt.handle("GET", "/api/school/enrollments/", user, handleEnrollmentList(school, links))
	rt.handle("POST", "/api/school/enrollments/", user, handleEnrollmentCreate(school))
	rt.handle("GET", "/api/school/enrollments/{id}/", user, handleEnrollmentGet(school))
	rt.handle("PATCH", "/api/school/enrollments/{id}/", user, handleEnrollmentGrade(school))
	rt.handle("DELETE", "/api/school/enrollments/{id}/", user, handleEnrollmentDelete(school))

	// Users are the admins' alone: the guard answers 403 before any 405, as DRF does.
	admin := func(h http.Handler) http.Handler { return user(adminOnly(h)) }
	rt.handle("GET", "/api/users/", admin, handleUserList(school, links))
	rt.handle("POST", "/api/users/", admin, handleUserCreate(school, deps.Passwords, cfg.PasswordPolicy, s.audit))
	rt.handle("GET", "/api/users/{id}/", admin, handleUserGet(school))
	rt.handle("PATCH", "/api/users/{id}/", admin, handleUserUpdate(school, deps.Passwords, cfg.PasswordPolicy, s))
	rt.handle("DELETE", "/api/users/{id}/", admin, handleUserDelete(school, s))
	rt.handle("POST", "/api/users/{id}/revoke/", admin, handleUserRevoke(school, s))
	rt.handle("GET", "/api/users/{id}/sessions/", admin, handleUserSessions(school, s, links))
	rt.handle("DELETE", "/api/users/{id}/sessions/{sid}/", admin, handleUserSessionEnd(school, s))
	rt.handle("GET", "/api/audit/", admin, handleAuditList(deps.Store, links))

	rt.handle("GET", "/healthz", nil, handleHealthz())
	if !cfg.PrivateMetrics {
		rt.handle("GET", "/metrics", nil, handleMetrics(m))
	}
	rt.handle("GET", "/readyz", nil, handleReadyz(deps.Store, authn))
	rt.handle("GET", "/api/schema/", nil, handleSchema())
	rt.handle("GET", "/api/docs/", nil, handleDocs())
	rt.handle("GET", "/api/docs/{asset}", nil, handleDocs())
	rt.finish()
	return rt
}
