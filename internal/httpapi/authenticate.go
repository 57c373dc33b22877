package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// authenticator turns an Authorization header into a principal. It does no I/O: the
// signature and claims are checked by the token service and revocation by the in-memory
// view, so any instance verifies any token on its own.
type authenticator struct {
	tokens *token.Service
	view   *token.RevocationView
	now    func() time.Time
	maxAge time.Duration
	// django resolves the user of a token of the Django server, the one kind of token
	// whose check reads the store (cutover.go); nil: its user_id is the id.
	django djangoUsers
}

// require answers 401 unless the request carries a valid, unrevoked access token, and
// passes the principal on in the context.
func (a authenticator) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.principal(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		// The chain's request state carries it, sparing a context and a request copy per
		// request; outside the chain (no state) it goes into the context.
		if st := stateFrom(r.Context()); st != nil {
			st.principal, st.authenticated = p, true
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(ciphemic.NewContextWithPrincipal(r.Context(), p)))
	})
}

// principal verifies the request's Bearer token.
func (a authenticator) principal(r *http.Request) (ciphemic.Principal, error) {
	header := authorization(r)
	claims, err := a.verifiedBefore(header)
	if errors.Is(err, errNotVerifiedBefore) {
		raw, berr := bearerToken(header)
		if berr != nil {
			return ciphemic.Principal{}, berr
		}
		claims, err = a.tokens.Parse(raw, token.TypeAccess)
	}
	if err != nil {
		return ciphemic.Principal{}, errAccessTokenInvalid
	}
	if claims, err = resolveDjangoUser(r.Context(), a.django, claims); err != nil {
		if errors.Is(err, ciphemic.ErrTokenUnknown) {
			return ciphemic.Principal{}, errAccessTokenInvalid
		}
		return ciphemic.Principal{}, err
	}
	if err := a.checkFresh(); err != nil {
		return ciphemic.Principal{}, err
	}
	if a.view.Revoked(claims) {
		return ciphemic.Principal{}, errAccessTokenInvalid
	}
	return ciphemic.Principal{
		UserID:    claims.UserID,
		Roles:     claims.Roles,
		TokenID:   claims.JTI,
		ExpiresAt: claims.ExpiresAt,
		SessionID: claims.SessionID,
	}, nil
}

// errNotVerifiedBefore: the header's token is not one the token service verified lately.
var errNotVerifiedBefore = errors.New("token not verified before")

// verifiedBefore answers for the header "Bearer " and a token the token service verified
// lately, as nearly every request of a client's five minutes carries: a known token
// text is three base64url segments with nothing else in them (token.ParseCached), so
// bearerToken would return exactly the text after "Bearer ", and its scan of some 400
// bytes can be skipped. Any other header gives errNotVerifiedBefore.
func (a authenticator) verifiedBefore(header string) (token.Claims, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return token.Claims{}, errNotVerifiedBefore
	}
	claims, ok, err := a.tokens.ParseCached(raw, token.TypeAccess)
	if !ok {
		return token.Claims{}, errNotVerifiedBefore
	}
	return claims, err
}

// authorization is the request's first Authorization header, as Header.Get gives it,
// without Get's canonicalisation of the name on every call: the server stores header
// names canonical, and this one is already.
func authorization(r *http.Request) string {
	if v := r.Header["Authorization"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// checkFresh fails closed (503) when the revocation view is older than maxAge, or had
// to leave revocations out for want of room: either way a revoked token could pass
// unnoticed.
func (a authenticator) checkFresh() error {
	if a.maxAge > 0 && a.now().Sub(a.view.LastSync()) > a.maxAge {
		return ciphemic.Errorf(ciphemic.CodeUnavailable, "revocation view is stale")
	}
	if a.view.Full() {
		return ciphemic.Errorf(ciphemic.CodeUnavailable, "revocation view is full")
	}
	return nil
}

// bearerToken reads "Authorization: Bearer <token>" as simplejwt does: another scheme (or
// "bearer" in lower case) is no credentials at all; "Bearer" with zero or several values is
// a malformed header.
func bearerToken(header string) (string, error) {
	// The common case, "Bearer " and a token with no white space around or in it, without
	// splitting the header into a slice.
	if raw, ok := strings.CutPrefix(header, "Bearer "); ok && plainToken(raw) {
		return raw, nil
	}
	parts := strings.Fields(header)
	if len(parts) == 0 || parts[0] != "Bearer" {
		return "", errNotAuthenticated
	}
	if len(parts) != 2 {
		return "", errBadAuthorizationHeader
	}
	return parts[1], nil
}

// plainToken reports whether s is not empty and all printable ASCII: no white space of
// any kind, so that splitting the header would give "Bearer" and s. It runs on every
// protected request over a token of some 400 bytes, so it tests eight bytes at a time.
func plainToken(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !printableWord(wordAt(s, i)) {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// principalFrom returns the principal that require put in the context. Handlers behind
// require always have one; its absence is a wiring bug, reported as a 500.
func principalFrom(r *http.Request) (ciphemic.Principal, error) {
	if st := stateFrom(r.Context()); st != nil && st.authenticated {
		return st.principal, nil
	}
	p, ok := ciphemic.PrincipalFromContext(r.Context())
	if !ok {
		return p, ciphemic.Errorf(ciphemic.CodeInternal, "no principal in context")
	}
	return p, nil
}
