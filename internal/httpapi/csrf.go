package httpapi

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// CSRF protection of the cookie mode (cookies.go). The browser attaches the refresh
// cookie to requests that other pages trigger; SameSite=Strict already keeps it off
// requests from other sites, and on top of that (older browsers, and pages of the same
// site on other subdomains) a request that authenticates with the cookie must show:
//
//   - the double-submit token: header X-CSRF-Token equal to the ciphemic_csrf cookie.
//     Another origin's page can neither read that cookie nor send a custom header without
//     a CORS preflight, which only the allowed origins pass;
//   - when the browser names the requesting page's origin (Origin), the API's own origin
//     or a CORS-allowed one.
//
// Anything else is DRF's 403 "CSRF Failed: CSRF token missing or incorrect.", one answer
// for every reason. A refresh token sent in the body needs no double-submit token: a page
// can only send a token it holds, so the body is no ambient credential. But the answer to
// it sets the cookies, so it must come from a trusted page all the same (guardOrigin).

// checkCSRF verifies the CSRF proof of a request that authenticates with the refresh
// cookie.
func (c refreshCookies) checkCSRF(r *http.Request) error {
	if !c.trustedOrigin(r) {
		return errCSRFFailed
	}
	header := r.Header.Get(csrfHeader)
	cookie, err := r.Cookie(CSRFCookieName)
	if err != nil || header == "" || subtle.ConstantTimeCompare([]byte(header), []byte(cookie.Value)) != 1 {
		return errCSRFFailed
	}
	return nil
}

// trustedOrigin reports whether the request comes from a page the API trusts: its Origin,
// when it sends one, is the API's own origin (as the client addressed it, behind trusted
// proxies too) or a CORS-allowed one. An opaque origin ("null": sandboxed frames, some
// redirects) is trusted by no one.
func (c refreshCookies) trustedOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		// Not a browser, or one that withheld Origin (the token proof remains) — unless its
		// Fetch Metadata says that another site's page sent the request.
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	if slices.Contains(c.origins, origin) {
		return true
	}
	own, err := parseOrigin(c.links.origin(r))
	return err == nil && origin == own
}

// guardOrigin refuses, in cookie mode, a request from an untrusted page (trustedOrigin) to
// a route whose answer sets the refresh cookie: login, refresh and password change.
// Whatever the request authenticates with — a password, a refresh token in the body, an
// access token — the answer's cookies would sign the browser in to the account the page
// chose (login CSRF): browsers keep SameSite=Strict cookies that the answer to another
// site's top-level form POST sets, and these routes take form bodies, which any site can
// post without a preflight. Clients that send neither Origin nor Sec-Fetch-Site are not
// browsers and are unaffected.
func (c refreshCookies) guardOrigin(next http.Handler) http.Handler {
	if !c.enabled {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.trustedOrigin(r) {
			writeError(w, r, errCSRFFailed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withCookieCORS lets the pages of the CORS-allowed origins use the cookie mode: an
// answer to which withCORS granted an origin (it echoed it in
// Access-Control-Allow-Origin) also allows credentials, sending the X-CSRF-Token header
// and reading it from the answer. It keys on withCORS's decision rather than repeating
// it, and never allows credentials for "*". Without the cookie mode the chain is
// unchanged: the API then takes no credentials a browser would attach by itself.
func withCookieCORS(rc RefreshCookie, next http.Handler) http.Handler {
	if !rc.Enabled {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&credentialsWriter{ResponseWriter: w}, r)
	})
}

// credentialsWriter adds the credential grants of withCookieCORS just before the header
// is written.
type credentialsWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *credentialsWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		h := w.Header()
		if allow := h.Get("Access-Control-Allow-Origin"); allow != "" && allow != "*" {
			h.Set("Access-Control-Allow-Credentials", "true")
			appendToList(h, "Access-Control-Allow-Headers", csrfHeader)
			appendToList(h, "Access-Control-Expose-Headers", csrfHeader)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *credentialsWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *credentialsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// appendToList adds item to the comma-separated header name when the header is set.
func appendToList(h http.Header, name, item string) {
	if v := h.Get(name); v != "" && !strings.Contains(strings.ToLower(v), strings.ToLower(item)) {
		h.Set(name, v+", "+item)
	}
}
