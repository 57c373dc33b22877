package httpapi

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/ciphemic/ciphemic/internal/token"
)

// The optional browser mode of refresh tokens (Config.RefreshCookie). A refresh token that
// page JavaScript holds is taken by any XSS on the page; one in an HttpOnly cookie is not.
// In this mode every response that would carry a refresh token in its body (login,
// refresh with rotation, password change) sets it as a Secure, SameSite=Strict, HttpOnly
// cookie instead, scoped by its Path to the token endpoints, and the body carries the
// access token alone. Refresh and logout take the token from the cookie when the body has
// none. A cookie is an ambient credential, so such requests must prove they come from a
// trusted page (csrf.go); and every request whose answer sets the cookie must come from
// one too, whatever it authenticates with (guardOrigin).

// Defaults of the cookie mode's settings.
const (
	DefaultRefreshCookieName = "ciphemic_refresh"
	// DefaultRefreshCookiePath sends the refresh cookie to the token endpoints only.
	DefaultRefreshCookiePath = "/api/token/"
)

// CSRFCookieName is the cookie of the double-submit CSRF token. It is not HttpOnly and
// lives at "/", so that any page of the API's origin can read it.
const CSRFCookieName = "ciphemic_csrf"

// csrfHeader is where a page echoes the CSRF token; the login and refresh answers also
// carry it there, for pages of another origin, which cannot read the cookie.
const csrfHeader = "X-CSRF-Token"

// RefreshCookie configures the browser mode of refresh tokens. The zero value is off:
// clients see simplejwt's bodies and no cookie is ever set or read.
type RefreshCookie struct {
	// Enabled moves refresh tokens from response bodies into the cookie and lets refresh
	// and logout read them from it.
	Enabled bool
	// Name and Path of the refresh cookie; empty means DefaultRefreshCookieName and
	// DefaultRefreshCookiePath.
	Name, Path string
}

// refreshCookies is the cookie mode as the handlers use it; the zero value is the mode off.
type refreshCookies struct {
	enabled    bool
	name, path string
	// maxAge is the refresh token lifetime in seconds, the cookies' Max-Age.
	maxAge int
	// origins are the CORS-allowed origins, whose pages are trusted like the API's own.
	origins []string
	// links name the API's own origin: PublicURL, or the request's behind trusted proxies.
	links linkBase
}

// newRefreshCookies builds the cookie mode of cfg.
func newRefreshCookies(cfg Config, tokens *token.Service) refreshCookies {
	rc := cfg.RefreshCookie
	if !rc.Enabled {
		return refreshCookies{}
	}
	return refreshCookies{
		enabled: true,
		name:    cmp.Or(rc.Name, DefaultRefreshCookieName),
		path:    cmp.Or(rc.Path, DefaultRefreshCookiePath),
		maxAge:  int((tokens.Config().RefreshLifetime + time.Second - 1) / time.Second),
		// "*" among them matches no Origin a browser sends: with cookies it trusts no page.
		origins: cfg.CORSAllowedOrigins,
		links:   newLinkBase(cfg),
	}
}

// refreshToken reads the refresh token of a refresh or logout request: the body's
// "refresh" field or, in cookie mode when the body has none, the refresh cookie, which
// counts only with the CSRF proof. fromCookie tells which one it was.
func (c refreshCookies) refreshToken(r *http.Request) (raw string, fromCookie bool, err error) {
	body, err := decodeBody(r, false)
	if err != nil {
		return "", false, err
	}
	if _, inBody := body["refresh"]; !inBody && c.enabled {
		if cookie, err := r.Cookie(c.name); err == nil && cookie.Value != "" {
			if err := c.checkCSRF(r); err != nil {
				return "", false, err
			}
			return cookie.Value, true, nil
		}
	}
	errs := newFieldErrors()
	raw = body.stringField(errs, "refresh", true)
	return raw, false, errs.errOrNil()
}

// accessBody is the answer of login, refresh and password change in cookie mode.
type accessBody struct {
	Access string `json:"access"`
}

// writePair answers a login or password change in cookie mode: the refresh token goes
// into the cookie, beside a new CSRF token, and the body holds the access token only.
func (c refreshCookies) writePair(w http.ResponseWriter, r *http.Request, pair tokenPair) {
	c.set(w, pair.refresh, newCSRFToken())
	encode(w, r, http.StatusOK, accessBody{Access: pair.access})
}

// writeRefresh answers a successful refresh. In cookie mode a new refresh token (rotation)
// goes into the cookie. A refresh with the cookie keeps the CSRF token, the same for the
// whole session, so that other tabs, and pages that keep it from a header, need not learn
// a new one. A refresh with a token from the body gets a new CSRF token: it starts the
// browser's session anew, and a ciphemic_csrf cookie it sent may have been planted by a
// sibling subdomain (cookie tossing), which must not then know the new session's token.
func (c refreshCookies) writeRefresh(w http.ResponseWriter, r *http.Request, body refreshBody, fromCookie bool) {
	if !c.enabled || body.Refresh == "" {
		encode(w, r, http.StatusOK, body)
		return
	}
	csrf := newCSRFToken()
	if cookie, err := r.Cookie(CSRFCookieName); err == nil && fromCookie && validCSRFToken(cookie.Value) {
		csrf = cookie.Value
	}
	c.set(w, body.Refresh, csrf)
	encode(w, r, http.StatusOK, accessBody{Access: body.Access})
}

// set sets the refresh and CSRF cookies for the refresh token lifetime, and the CSRF
// header.
func (c refreshCookies) set(w http.ResponseWriter, refresh, csrf string) {
	c.setCookies(w, refresh, csrf, c.maxAge)
	w.Header().Set(csrfHeader, csrf)
}

// setCookies sets both cookies; a negative maxAge deletes them ("Max-Age=0").
func (c refreshCookies) setCookies(w http.ResponseWriter, refresh, csrf string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: refresh, Path: c.path, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	// #nosec G124 -- not HttpOnly by design: the page reads the double-submit token (csrf.go)
	http.SetCookie(w, &http.Cookie{
		Name: CSRFCookieName, Value: csrf, Path: "/", MaxAge: maxAge,
		Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// clearOnLogout returns w changed so that a logout answered 200 (the token is now dead)
// or 401 (it already was) also deletes both cookies. Any other answer, such as a store
// outage, keeps them, so that the page can try again and the token does not outlive its
// last copy unrevoked.
func (c refreshCookies) clearOnLogout(w http.ResponseWriter) http.ResponseWriter {
	return &logoutWriter{ResponseWriter: w, cookies: c}
}

// logoutWriter deletes the cookies when the answer's status says so (clearOnLogout).
type logoutWriter struct {
	http.ResponseWriter
	cookies     refreshCookies
	wroteHeader bool
}

func (w *logoutWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		if code == http.StatusOK || code == http.StatusUnauthorized {
			w.cookies.setCookies(w.ResponseWriter, "", "", -1)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logoutWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *logoutWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// csrfTokenBytes is the entropy of a CSRF token: 32 random bytes, 43 base64url characters.
const csrfTokenBytes = 32

// newCSRFToken returns a fresh random CSRF token.
func newCSRFToken() string {
	b := make([]byte, csrfTokenBytes)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// validCSRFToken reports whether s has the form of a token newCSRFToken makes; a refresh
// replaces a CSRF cookie of any other form rather than carry it on.
func validCSRFToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == csrfTokenBytes
}
