package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

const (
	bodyCSRFFailed = `{"detail":"CSRF Failed: CSRF token missing or incorrect."}`
	foreignOrigin  = "https://evil.example"
)

// newCookieInstance starts a server in cookie mode with rotation and one user, testuser.
func newCookieInstance(t *testing.T, rc RefreshCookie, origins ...string) *instance {
	t.Helper()
	rc.Enabled = true
	in := newInstance(t, options{cfg: &Config{
		RotateRefreshTokens: true, BlacklistAfterRotation: true, LoginThrottle: LoginThrottle{Disabled: true},
		RefreshCookie: rc, CORSAllowedOrigins: origins,
	}})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	return in
}

// cookiesOf returns the cookies a response sets, by name.
func cookiesOf(r response) map[string]*http.Cookie {
	all := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		all[c.Name] = c
	}
	return all
}

// browserSession is what a browser holds after a login in cookie mode.
type browserSession struct {
	access, refresh, csrf string
}

// cookie is the Cookie header the browser sends to the token endpoints.
func (b browserSession) cookie() string {
	return "Cookie: " + DefaultRefreshCookieName + "=" + b.refresh + "; " + CSRFCookieName + "=" + b.csrf
}

// mustCookieLogin logs testuser in and returns the session the cookies hold.
func mustCookieLogin(t *testing.T, in *instance) browserSession {
	t.Helper()
	r := in.postJSON(t, "/api/token/", `{"username":"testuser","password":"password"}`)
	if r.status != http.StatusOK {
		t.Fatalf("login in cookie mode = %d %s, want 200", r.status, r.body)
	}
	c := cookiesOf(r)
	if c[DefaultRefreshCookieName] == nil || c[CSRFCookieName] == nil {
		t.Fatalf("login in cookie mode set cookies %v, want %s and %s", r.header.Values("Set-Cookie"), DefaultRefreshCookieName, CSRFCookieName)
	}
	return browserSession{access: r.str(t, "access"), refresh: c[DefaultRefreshCookieName].Value, csrf: c[CSRFCookieName].Value}
}

// refreshWith posts an empty refresh request carrying the session's cookies and headers.
func (b browserSession) refreshWith(t *testing.T, in *instance, path string, headers ...string) response {
	t.Helper()
	return in.do(t, http.MethodPost, path, "", nil, append([]string{b.cookie()}, headers...)...)
}

// wantCookie checks every attribute of a cookie the response sets.
func wantCookie(t *testing.T, r response, want http.Cookie) {
	t.Helper()
	got := cookiesOf(r)[want.Name]
	if got == nil {
		t.Fatalf("Set-Cookie %q, want a cookie %s", r.header.Values("Set-Cookie"), want.Name)
	}
	if got.Path != want.Path || got.MaxAge != want.MaxAge || got.HttpOnly != want.HttpOnly ||
		got.Secure != want.Secure || got.SameSite != want.SameSite || got.Domain != "" {
		t.Errorf("cookie %s = %q, want Path=%s MaxAge=%d HttpOnly=%v Secure=%v SameSite=%v", want.Name,
			got.Raw, want.Path, want.MaxAge, want.HttpOnly, want.Secure, want.SameSite)
	}
}

// TestRefreshCookieLogin: in cookie mode both logins set the refresh token as an HttpOnly,
// Secure, SameSite=Strict cookie for the token endpoints and the refresh lifetime, and a
// readable CSRF cookie; the body holds the access token only.
func TestRefreshCookieLogin(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	for _, path := range []string{"/api/token/", "/login/", "/login"} {
		r := in.postJSON(t, path, `{"username":"testuser","password":"password"}`)
		body := r.json(t)
		if r.status != http.StatusOK || len(body) != 1 || body["access"] == nil {
			t.Errorf("POST %s = %d %s, want 200 with the access token alone", path, r.status, r.body)
		}
		wantCookie(t, r, http.Cookie{Name: DefaultRefreshCookieName, Path: "/api/token/", MaxAge: 86400,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
		wantCookie(t, r, http.Cookie{Name: CSRFCookieName, Path: "/", MaxAge: 86400,
			HttpOnly: false, Secure: true, SameSite: http.SameSiteStrictMode})
		c := cookiesOf(r)
		if _, err := in.tokens.Parse(c[DefaultRefreshCookieName].Value, token.TypeRefresh); err != nil {
			t.Errorf("POST %s: refresh cookie is not a refresh token: %v", path, err)
		}
		if csrf := c[CSRFCookieName].Value; !validCSRFToken(csrf) || r.header.Get(csrfHeader) != csrf {
			t.Errorf("POST %s: CSRF cookie %q, header %q, want one 43-character token in both", path, csrf, r.header.Get(csrfHeader))
		}
	}
	t.Run("name and path", func(t *testing.T) {
		in := newCookieInstance(t, RefreshCookie{Name: "rt", Path: "/auth/token/"})
		r := in.postJSON(t, "/api/token/", `{"username":"testuser","password":"password"}`)
		wantCookie(t, r, http.Cookie{Name: "rt", Path: "/auth/token/", MaxAge: 86400,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	})
}

// TestRefreshCookieRotation: a refresh with the cookie rotates it: the answer sets the
// successor as the cookie, keeps the CSRF token and holds the access token only.
func TestRefreshCookieRotation(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	b := mustCookieLogin(t, in)
	r := b.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+b.csrf, "Origin: "+in.srv.URL)
	if body := r.json(t); r.status != http.StatusOK || len(body) != 1 || body["access"] == nil {
		t.Fatalf("refresh with the cookie = %d %s, want 200 with the access token alone", r.status, r.body)
	}
	wantCookie(t, r, http.Cookie{Name: DefaultRefreshCookieName, Path: "/api/token/", MaxAge: 86400,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	c := cookiesOf(r)
	if next := c[DefaultRefreshCookieName].Value; next == b.refresh {
		t.Errorf("refresh cookie not rotated")
	}
	if got := c[CSRFCookieName].Value; got != b.csrf || r.header.Get(csrfHeader) != b.csrf {
		t.Errorf("CSRF cookie %q, header %q after refresh, want the session's %q", got, r.header.Get(csrfHeader), b.csrf)
	}
	if me := in.get(t, "/api/me/", r.str(t, "access")); me.status != http.StatusOK {
		t.Errorf("refreshed access on /api/me/ = %d, want 200", me.status)
	}
	// The body keeps working in cookie mode, without the CSRF header, but the answer's
	// refresh token still goes into the cookie.
	b.refresh = c[DefaultRefreshCookieName].Value
	r = in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": b.refresh}, "Origin: "+in.srv.URL)
	if body := r.json(t); r.status != http.StatusOK || body["refresh"] != nil || cookiesOf(r)[DefaultRefreshCookieName] == nil {
		t.Errorf("refresh with the body in cookie mode = %d %s, want 200, the successor in the cookie", r.status, r.body)
	}
}

// TestRefreshCookieReuse: replaying a rotated cookie is reuse: 401 blacklisted, and the
// whole family, the successor cookie included, is dead.
func TestRefreshCookieReuse(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	old := mustCookieLogin(t, in)
	r := old.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+old.csrf)
	if r.status != http.StatusOK {
		t.Fatalf("refresh = %d %s, want 200", r.status, r.body)
	}
	next := old
	next.refresh = cookiesOf(r)[DefaultRefreshCookieName].Value
	next.access = r.str(t, "access")
	wantStatusBody(t, old.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+old.csrf), 401, bodyBlacklisted)
	wantStatusBody(t, next.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+next.csrf), 401, bodyBlacklisted)
	wantStatusBody(t, in.get(t, "/api/me/", next.access), 401, bodyAccessBad)
}

// TestRefreshCookieCSRF: refresh and logout with the cookie need the X-CSRF-Token header
// equal to the CSRF cookie, and an Origin, when sent, of the API or a CORS-allowed page.
// A failed check spends nothing.
func TestRefreshCookieCSRF(t *testing.T) {
	const allowed = "https://app.example.com"
	in := newCookieInstance(t, RefreshCookie{}, allowed)
	// In header and origin, $csrf stands for the session's CSRF token, $own for the API's
	// own origin.
	tests := []struct {
		name, header, origin string
		ok                   bool
	}{
		{"token, no origin", "$csrf", "", true},
		{"token, own origin", "$csrf", "$own", true},
		{"token, allowed origin", "$csrf", allowed, true},
		{"no header", "", "", false},
		{"wrong header", newCSRFToken(), "", false},
		{"header prefix", "$csrf!", "", false},
		{"foreign origin", "$csrf", foreignOrigin, false},
		{"null origin", "$csrf", "null", false},
		{"own host, other port", "$csrf", "$own1", false},
		{"own host, https", "$csrf", "https://$host", false},
	}
	for _, path := range []string{"/api/token/refresh/", "/api/token/blacklist/"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				b := mustCookieLogin(t, in)
				fill := strings.NewReplacer("$csrf", b.csrf, "$own", in.srv.URL, "$host", strings.TrimPrefix(in.srv.URL, "http://"))
				var headers []string
				if tt.header != "" {
					headers = append(headers, csrfHeader+": "+fill.Replace(tt.header))
				}
				if tt.origin != "" {
					headers = append(headers, "Origin: "+fill.Replace(tt.origin))
				}
				r := b.refreshWith(t, in, path, headers...)
				if tt.ok {
					if r.status != http.StatusOK {
						t.Errorf("POST %s with %q = %d %s, want 200", path, headers, r.status, r.body)
					}
					return
				}
				wantStatusBody(t, r, http.StatusForbidden, bodyCSRFFailed)
				if got := r.header.Values("Set-Cookie"); len(got) != 0 {
					t.Errorf("refused POST %s set cookies %q", path, got)
				}
				if again := b.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+b.csrf); again.status != http.StatusOK {
					t.Errorf("token after a refused POST %s = %d %s, want still live", path, again.status, again.body)
				}
			})
		}
	}
	t.Run("no CSRF cookie", func(t *testing.T) {
		b := mustCookieLogin(t, in)
		r := in.do(t, http.MethodPost, "/api/token/refresh/", "", nil,
			"Cookie: "+DefaultRefreshCookieName+"="+b.refresh, csrfHeader+": "+b.csrf)
		wantStatusBody(t, r, http.StatusForbidden, bodyCSRFFailed)
	})
}

// TestRefreshCookieLogout: logout with the cookie blacklists its token and deletes both
// cookies, also when the token was already dead; without the proof it deletes nothing.
func TestRefreshCookieLogout(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	b := mustCookieLogin(t, in)
	r := b.refreshWith(t, in, "/api/token/blacklist/", csrfHeader+": "+b.csrf)
	wantStatusBody(t, r, http.StatusOK, `{}`)
	wantCleared(t, r)
	wantStatusBody(t, in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": b.refresh}), 401, bodyBlacklisted)

	for name, refresh := range map[string]string{"logged out": b.refresh, "garbage": "garbage"} {
		t.Run(name, func(t *testing.T) {
			dead := browserSession{refresh: refresh, csrf: b.csrf}
			r := dead.refreshWith(t, in, "/api/token/blacklist/", csrfHeader+": "+b.csrf)
			if r.status != http.StatusUnauthorized {
				t.Errorf("logout with a %s cookie = %d %s, want 401", name, r.status, r.body)
			}
			wantCleared(t, r)
		})
	}
	t.Run("body token wins", func(t *testing.T) {
		browser, other := mustCookieLogin(t, in), mustCookieLogin(t, in)
		r := in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": other.refresh}, browser.cookie())
		if r.status != http.StatusOK || len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("logout with the body = %d, Set-Cookie %q; want 200 and no cookie change", r.status, r.header.Values("Set-Cookie"))
		}
		wantStatusBody(t, in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": other.refresh}), 401, bodyBlacklisted)
		if r := browser.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+browser.csrf); r.status != http.StatusOK {
			t.Errorf("cookie after a logout of another token = %d %s, want still live", r.status, r.body)
		}
	})
}

// wantCleared checks that a response deletes both cookies, at the paths they were set.
func wantCleared(t *testing.T, r response) {
	t.Helper()
	wantCookie(t, r, http.Cookie{Name: DefaultRefreshCookieName, Path: "/api/token/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	wantCookie(t, r, http.Cookie{Name: CSRFCookieName, Path: "/", MaxAge: -1,
		Secure: true, SameSite: http.SameSiteStrictMode})
	for _, c := range cookiesOf(r) {
		if c.Value != "" {
			t.Errorf("deleting cookie %s carries a value", c.Name)
		}
	}
}

// TestRefreshCookieLoginOrigin: in cookie mode a login posted by a foreign page is
// refused (login CSRF); without an Origin, or from the API's own, it works.
func TestRefreshCookieLoginOrigin(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	for _, path := range []string{"/api/token/", "/login/"} {
		r := in.postJSON(t, path, `{"username":"testuser","password":"password"}`, "Origin: "+foreignOrigin)
		wantStatusBody(t, r, http.StatusForbidden, bodyCSRFFailed)
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("refused login %s set cookies", path)
		}
		if r := in.postJSON(t, path, `{"username":"testuser","password":"password"}`, "Origin: "+in.srv.URL); r.status != http.StatusOK {
			t.Errorf("login %s from the API's own origin = %d %s, want 200", path, r.status, r.body)
		}
	}
}

// cookieSetters are the requests whose answer sets the refresh cookie in cookie mode, each
// made by testuser, with headers added; refresh with a body token the way an attacker's
// page posts one: as a form.
var cookieSetters = []struct {
	name string
	send func(t *testing.T, in *instance, headers ...string) response
}{
	{"login", func(t *testing.T, in *instance, headers ...string) response {
		return in.postJSON(t, "/api/token/", `{"username":"testuser","password":"password"}`, headers...)
	}},
	{"login form", func(t *testing.T, in *instance, headers ...string) response {
		return in.do(t, http.MethodPost, "/login/", formType, strings.NewReader("username=testuser&password=password"), headers...)
	}},
	{"refresh form", func(t *testing.T, in *instance, headers ...string) response {
		b := mustCookieLogin(t, in)
		return in.do(t, http.MethodPost, "/api/token/refresh/", formType, strings.NewReader("refresh="+b.refresh), headers...)
	}},
	{"refresh cookie", func(t *testing.T, in *instance, headers ...string) response {
		b := mustCookieLogin(t, in)
		return b.refreshWith(t, in, "/api/token/refresh/", append(headers, csrfHeader+": "+b.csrf)...)
	}},
	{"password change", func(t *testing.T, in *instance, headers ...string) response {
		b := mustCookieLogin(t, in)
		return in.postJSON(t, "/api/me/password/", map[string]string{"old_password": "password", "new_password": "a-new-long-passphrase"},
			append(headers, "Authorization: Bearer "+b.access)...)
	}},
}

const formType = "application/x-www-form-urlencoded"

// TestRefreshCookieSetterOrigin: in cookie mode every request whose answer sets the refresh
// cookie — login, refresh with a token from the body or the cookie, password change — is
// refused when a foreign or opaque Origin, or with no Origin a cross-site Sec-Fetch-Site,
// says another site's page sent it: its cookies would sign the browser in to the account
// that page chose (login CSRF). Trusted pages and non-browsers go through.
func TestRefreshCookieSetterOrigin(t *testing.T) {
	const allowed = "https://app.example.com"
	tests := []struct {
		name    string
		headers []string // "$own" stands for the API's own origin
		ok      bool
	}{
		{"foreign origin", []string{"Origin: " + foreignOrigin, "Sec-Fetch-Site: cross-site"}, false},
		{"null origin", []string{"Origin: null"}, false},
		{"cross-site, no origin", []string{"Sec-Fetch-Site: cross-site"}, false},
		{"no browser headers", nil, true},
		{"own origin", []string{"Origin: $own", "Sec-Fetch-Site: same-origin"}, true},
		{"allowed origin", []string{"Origin: " + allowed, "Sec-Fetch-Site: same-site"}, true},
		{"same-origin, no origin", []string{"Sec-Fetch-Site: same-origin"}, true},
	}
	for _, route := range cookieSetters {
		for _, tt := range tests {
			t.Run(route.name+" "+tt.name, func(t *testing.T) {
				in := newCookieInstance(t, RefreshCookie{}, allowed)
				var headers []string
				for _, h := range tt.headers {
					headers = append(headers, strings.ReplaceAll(h, "$own", in.srv.URL))
				}
				r := route.send(t, in, headers...)
				if tt.ok {
					if r.status != http.StatusOK || cookiesOf(r)[DefaultRefreshCookieName] == nil {
						t.Errorf("%s with %q = %d %s, want 200 and the refresh cookie", route.name, headers, r.status, r.body)
					}
					return
				}
				wantStatusBody(t, r, http.StatusForbidden, bodyCSRFFailed)
				if got := r.header.Values("Set-Cookie"); len(got) != 0 {
					t.Errorf("refused %s with %q set cookies %q", route.name, headers, got)
				}
				mustCookieLogin(t, in) // the password is unchanged
			})
		}
	}
}

// TestRefreshCookieBodyRefreshNewCSRF: a refresh with the token in the body gets a new
// CSRF token, even when the client sent a well-formed ciphemic_csrf cookie — its own
// session's or one planted by a sibling subdomain (cookie tossing).
func TestRefreshCookieBodyRefreshNewCSRF(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	planted := newCSRFToken()
	for name, cookie := range map[string]string{"planted": "Cookie: " + CSRFCookieName + "=" + planted, "session's": ""} {
		t.Run(name, func(t *testing.T) {
			b := mustCookieLogin(t, in)
			if cookie == "" {
				cookie = b.cookie()
			}
			r := in.do(t, http.MethodPost, "/api/token/refresh/", formType, strings.NewReader("refresh="+b.refresh),
				cookie, "Origin: "+in.srv.URL)
			got := cookiesOf(r)[CSRFCookieName]
			if r.status != http.StatusOK || got == nil {
				t.Fatalf("refresh with the body = %d %s, Set-Cookie %q; want 200 and a CSRF cookie", r.status, r.body, r.header.Values("Set-Cookie"))
			}
			if got.Value == planted || got.Value == b.csrf || !validCSRFToken(got.Value) || r.header.Get(csrfHeader) != got.Value {
				t.Errorf("CSRF cookie %q, header %q after a refresh with the body and a %s CSRF cookie; want a new token in both",
					got.Value, r.header.Get(csrfHeader), name)
			}
		})
	}
}

// TestRefreshCookieOff: without the cookie mode no response sets a cookie, a refresh
// cookie is ignored, and a foreign Origin changes nothing: simplejwt's behaviour exactly.
func TestRefreshCookieOff(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	noCookies := func(what string, r response) {
		t.Helper()
		if r.status != http.StatusOK || len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s = %d %s, Set-Cookie %q; want 200 and no cookie", what, r.status, r.body, r.header.Values("Set-Cookie"))
		}
	}
	for _, path := range []string{"/api/token/", "/login/"} {
		r := in.postJSON(t, path, `{"username":"testuser","password":"password"}`, "Origin: "+foreignOrigin)
		noCookies("login "+path, r)
		if r.json(t)["refresh"] == nil {
			t.Errorf("login %s = %s, want the refresh token in the body", path, r.body)
		}
	}
	access, refresh := in.login(t, "testuser", "password")
	r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh})
	noCookies("refresh", r)
	refresh = r.str(t, "refresh")
	b := browserSession{refresh: refresh, csrf: newCSRFToken()}
	wantStatusBody(t, b.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+b.csrf), 400, `{"refresh":["This field is required."]}`)
	wantStatusBody(t, b.refreshWith(t, in, "/api/token/blacklist/", csrfHeader+": "+b.csrf), 400, `{"refresh":["This field is required."]}`)
	noCookies("password change", in.postJSON(t, "/api/me/password/",
		map[string]string{"old_password": "password", "new_password": "a-new-long-passphrase"}, "Authorization: Bearer "+access))
	_, refresh = in.login(t, "testuser", "a-new-long-passphrase")
	noCookies("logout", in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}))
}

// TestRefreshCookieEdges: a refresh without rotation sets no cookie; a request with neither
// body token nor cookie is a field error as before; a password change moves the new
// refresh token into the cookie.
func TestRefreshCookieEdges(t *testing.T) {
	t.Run("no rotation", func(t *testing.T) {
		in := newInstance(t, options{cfg: &Config{RefreshCookie: RefreshCookie{Enabled: true}, LoginThrottle: LoginThrottle{Disabled: true}}})
		in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
		b := mustCookieLogin(t, in)
		r := b.refreshWith(t, in, "/api/token/refresh/", csrfHeader+": "+b.csrf)
		if body := r.json(t); r.status != http.StatusOK || len(body) != 1 || len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("refresh without rotation = %d %s, Set-Cookie %q; want the access token alone, no cookie", r.status, r.body, r.header.Values("Set-Cookie"))
		}
	})
	in := newCookieInstance(t, RefreshCookie{})
	wantStatusBody(t, in.do(t, http.MethodPost, "/api/token/refresh/", "", nil, csrfHeader+": x"), 400, `{"refresh":["This field is required."]}`)
	b := mustCookieLogin(t, in)
	r := in.postJSON(t, "/api/me/password/", map[string]string{"old_password": "password", "new_password": "a-new-long-passphrase"},
		"Authorization: Bearer "+b.access)
	if body := r.json(t); r.status != http.StatusOK || len(body) != 1 || body["access"] == nil {
		t.Errorf("password change in cookie mode = %d %s, want 200 with the access token alone", r.status, r.body)
	}
	wantCookie(t, r, http.Cookie{Name: DefaultRefreshCookieName, Path: "/api/token/", MaxAge: 86400,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// TestRefreshCookieCORS: in cookie mode the CORS-allowed origins may send credentials and
// the X-CSRF-Token header and read it back; other origins get no grant at all.
func TestRefreshCookieCORS(t *testing.T) {
	const allowed = "https://app.example.com"
	in := newCookieInstance(t, RefreshCookie{}, allowed)
	pre := in.do(t, http.MethodOptions, "/api/token/refresh/", "", nil, "Origin: "+allowed,
		"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: x-csrf-token")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), csrfHeader) {
		t.Errorf("preflight = %d, Allow-Credentials %q, Allow-Headers %q; want 204, true, with %s", pre.status,
			pre.header.Get("Access-Control-Allow-Credentials"), pre.header.Get("Access-Control-Allow-Headers"), csrfHeader)
	}
	r := in.postJSON(t, "/api/token/", `{"username":"testuser","password":"password"}`, "Origin: "+allowed)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), csrfHeader) {
		t.Errorf("login from %s = %d, Allow-Credentials %q, Expose-Headers %q; want 200, true, with %s", allowed, r.status,
			r.header.Get("Access-Control-Allow-Credentials"), r.header.Get("Access-Control-Expose-Headers"), csrfHeader)
	}
	r = in.do(t, http.MethodOptions, "/api/token/refresh/", "", nil, "Origin: "+foreignOrigin, "Access-Control-Request-Method: POST")
	if got := r.header.Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("preflight from %s: Allow-Credentials = %q, want none", foreignOrigin, got)
	}
	star := newCookieInstance(t, RefreshCookie{}, "*")
	r = star.postJSON(t, "/api/token/", `{"username":"testuser","password":"password"}`, "Origin: "+allowed)
	if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf(`login with CORS "*" from %s = %d, Allow-Credentials %q; want 403 and none: "*" trusts no page`, allowed,
			r.status, r.header.Get("Access-Control-Allow-Credentials"))
	}
}

// TestRefreshCookieLogoutOutage: a logout the store could not record keeps the cookies, so
// the page can try again rather than drop its only copy of a live token.
func TestRefreshCookieLogoutOutage(t *testing.T) {
	in := newCookieInstance(t, RefreshCookie{})
	b := mustCookieLogin(t, in)
	in.db.Close()
	r := b.refreshWith(t, in, "/api/token/blacklist/", csrfHeader+": "+b.csrf)
	if r.status < 500 || len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("logout with the store down = %d, Set-Cookie %q; want a 5xx and no cookie change", r.status, r.header.Values("Set-Cookie"))
	}
}

// TestRefreshCookiePublicURLOrigin: with PublicURL the API's own origin is the public
// one, whatever Host the request names: a page of the public origin may log in, and a
// page of the origin the request itself names (a name the proxy forwards) may not.
func TestRefreshCookiePublicURLOrigin(t *testing.T) {
	in := newInstance(t, options{cfg: &Config{
		RotateRefreshTokens: true, BlacklistAfterRotation: true, LoginThrottle: LoginThrottle{Disabled: true},
		RefreshCookie: RefreshCookie{Enabled: true}, PublicURL: "https://api.example.com",
	}})
	in.mustCreateUser(t, "testuser", "password", ciphemic.RoleStudent)
	body := `{"username":"testuser","password":"password"}`
	if r := in.postJSON(t, "/api/token/", body, "Origin: https://api.example.com"); r.status != http.StatusOK {
		t.Errorf("login from the public origin = %d %s, want 200", r.status, r.body)
	}
	if r := in.postJSON(t, "/api/token/", body, "Origin: "+in.srv.URL); r.status != http.StatusForbidden {
		t.Errorf("login from the request's own origin with PublicURL set = %d %s, want 403", r.status, r.body)
	}
}
