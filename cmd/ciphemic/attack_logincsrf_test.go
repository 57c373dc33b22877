package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// Login CSRF against the cookie mode (issue 12): an attacker's page makes the victim's
// browser post the attacker's own credentials — a password, or a refresh token the
// attacker holds — as a top-level form. Browsers keep the SameSite=Strict cookies that the
// answer sets, so without an origin check the victim's page would from then on work in
// the attacker's account.

// cookieSession is what one login in cookie mode hands a client: the access token from the
// body, the refresh and CSRF tokens from the cookies.
type cookieSession struct {
	access, refresh, csrf string
}

// mustCookieLogin logs in on a server in cookie mode, as a client that sends no Origin.
func mustCookieLogin(t *testing.T, s *server, username, password string) cookieSession {
	t.Helper()
	a := postForm(t, s, "/api/token/", url.Values{"username": {username}, "password": {password}})
	c := setCookies(a)
	if a.status != http.StatusOK || c["ciphemic_refresh"] == "" || c[httpapi.CSRFCookieName] == "" {
		t.Fatalf("login of %s in cookie mode = %d %s, Set-Cookie %q; want 200 and both cookies", username, a.status, a.body, a.header.Values("Set-Cookie"))
	}
	access := strings.TrimSuffix(strings.TrimPrefix(string(a.body), `{"access":"`), `"}`)
	return cookieSession{access: access, refresh: c["ciphemic_refresh"], csrf: c[httpapi.CSRFCookieName]}
}

// postForm posts fields urlencoded, as an HTML form does, with headers ("Name: value").
func postForm(t *testing.T, s *server, path string, fields url.Values, headers ...string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	return send(t, req)
}

// setCookies returns the values of the cookies an answer sets, by name.
func setCookies(a answer) map[string]string {
	all := map[string]string{}
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		all[c.Name] = c.Value
	}
	return all
}

// TestAttackLoginCSRFThroughRefresh: the attacker's own refresh token, posted as a form by
// a foreign page (a foreign or opaque Origin, or no Origin but Sec-Fetch-Site cross-site),
// is refused with 403 and sets no cookie; so is a login posted that way. From the API's
// own origin the same refresh works, and its answer carries a new CSRF token, not the
// well-formed one the browser sent.
func TestAttackLoginCSRFThroughRefresh(t *testing.T) {
	s := startServer(t, "", "--refresh-cookie", "--refresh-cookie-insecure-dev")
	admin := mustCookieLogin(t, s, "admin", s.adminPW)
	mustCreateUser(t, s, admin.access, "mallory", "mallory-Passw0rd!", "student")
	attacker := mustCookieLogin(t, s, "mallory", "mallory-Passw0rd!")
	victim := mustCookieLogin(t, s, "admin", s.adminPW)
	victimCSRF := "Cookie: " + httpapi.CSRFCookieName + "=" + victim.csrf

	foreign := map[string][]string{
		"foreign origin":        {"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"},
		"null origin":           {"Origin: null", "Sec-Fetch-Site: cross-site"},
		"no origin, cross-site": {"Sec-Fetch-Site: cross-site"},
	}
	for name, headers := range foreign {
		t.Run(name, func(t *testing.T) {
			headers = append(headers, victimCSRF)
			refresh := postForm(t, s, "/api/token/refresh/", url.Values{"refresh": {attacker.refresh}}, headers...)
			login := postForm(t, s, "/login/", url.Values{"username": {"mallory"}, "password": {"mallory-Passw0rd!"}}, headers...)
			for what, a := range map[string]answer{"refresh": refresh, "login": login} {
				if a.status != http.StatusForbidden || len(a.header.Values("Set-Cookie")) != 0 {
					t.Errorf("%s form with %q = %d %s, Set-Cookie %q; want 403 and no cookie",
						what, headers, a.status, a.body, a.header.Values("Set-Cookie"))
				}
			}
		})
	}

	own := postForm(t, s, "/api/token/refresh/", url.Values{"refresh": {attacker.refresh}},
		"Origin: "+s.url, "Sec-Fetch-Site: same-origin", victimCSRF)
	c := setCookies(own)
	if own.status != http.StatusOK || c["ciphemic_refresh"] == "" {
		t.Fatalf("refresh form from the API's own origin = %d %s, Set-Cookie %q; want 200 and the cookies", own.status, own.body, own.header.Values("Set-Cookie"))
	}
	if csrf := c[httpapi.CSRFCookieName]; csrf == "" || csrf == victim.csrf || own.header.Get("X-CSRF-Token") != csrf {
		t.Errorf("CSRF cookie %q, header %q after a body refresh that sent the CSRF cookie %q; want a new token in both",
			csrf, own.header.Get("X-CSRF-Token"), victim.csrf)
	}
}
