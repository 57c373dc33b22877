package httpapi

import (
	"net/http"
)

// addRoutes is the whole API surface (API.md). Every path is served with and without its
// trailing slash; protected paths authenticate before anything else, as DRF does.
func addRoutes(mux *http.ServeMux, cfg Config, deps Deps) {
	authn := authenticator{tokens: deps.Tokens, view: deps.Revocations, now: cfg.Now, maxAge: cfg.RevocationMaxAge}
	s := sessions{tokens: deps.Tokens, store: deps.Store, view: deps.Revocations, now: cfg.Now}
	creds := credentials{users: deps.Store, hasher: deps.Passwords}
	user := authn.require
	rt := newRouter(mux)

	rt.handle("POST", "/api/token/", nil, handleTokenObtain(creds, s, false))
	rt.handle("POST", "/login/", nil, handleTokenObtain(creds, s, true))
	rt.handle("POST", "/api/token/refresh/", nil, handleTokenRefresh(s, cfg.RotateRefreshTokens, cfg.BlacklistAfterRotation))
	rt.handle("POST", "/api/token/verify/", nil, handleTokenVerify(s))
	rt.handle("POST", "/api/token/blacklist/", nil, handleTokenBlacklist(s, authn))
	rt.handle("POST", "/api/token/revoke-all/", user, handleRevokeAll(s))
	rt.handle("GET", "/.well-known/jwks.json", nil, handleJWKS(deps.Tokens))

	rt.handle("GET", "/api/me/", user, handleMe(deps.Store))
	rt.handle("POST", "/api/me/password/", user, handlePasswordChange(deps.Store, deps.Passwords, s))

	rt.handle("GET", "/healthz", nil, handleHealthz())
	rt.handle("GET", "/readyz", nil, handleReadyz(deps.Store, authn))
	rt.finish()
}
