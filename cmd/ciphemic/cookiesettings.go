package main

import (
	"flag"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// cookieSettings are the settings of the browser cookie mode of refresh tokens
// (README "Browser clients").
type cookieSettings struct {
	enabled     bool
	name, path  string
	insecureDev bool
	// overHTTP is set by validate when only insecureDev let the mode start.
	overHTTP bool
}

func (s *cookieSettings) register(fs *flag.FlagSet) {
	fs.BoolVar(&s.enabled, "refresh-cookie", false, "for browser clients: refresh tokens travel in an HttpOnly, Secure, SameSite=Strict cookie instead of the body, with CSRF protection (needs HTTPS)")
	fs.StringVar(&s.name, "refresh-cookie-name", httpapi.DefaultRefreshCookieName, "name of the refresh-token cookie")
	fs.StringVar(&s.path, "refresh-cookie-path", httpapi.DefaultRefreshCookiePath, "path of the refresh-token cookie: browsers send it only to URLs below it")
	fs.BoolVar(&s.insecureDev, "refresh-cookie-insecure-dev", false, "allow --refresh-cookie without HTTPS: only for local development over http://127.0.0.1")
}

// validate checks the cookie settings. https says whether clients reach the server over
// TLS: its own, or a reverse proxy's in --trusted-proxies. cors is the parsed
// --cors-allowed-origins.
func (s *cookieSettings) validate(https bool, cors []string) error {
	if err := (&http.Cookie{Name: s.name, Value: "x"}).Valid(); err != nil || s.name == httpapi.CSRFCookieName { // #nosec G124 -- only validates the name; never sent
		return invalid("refresh-cookie-name", "%q is not a cookie name of its own (letters, digits and !#$%%&'*+-.^_`|~, not %s)", s.name, httpapi.CSRFCookieName)
	}
	if err := (&http.Cookie{Name: "x", Value: "x", Path: s.path}).Valid(); err != nil || !strings.HasPrefix(s.path, "/") { // #nosec G124 -- only validates the path; never sent
		return invalid("refresh-cookie-path", "%q is not a URL path like /api/token/", s.path)
	}
	if strings.HasPrefix(strings.ToLower(s.name), "__host-") && s.path != "/" {
		// Browsers drop a __Host- cookie whose Path is not "/", which would break logins silently.
		return invalid("refresh-cookie-name", "a __Host- cookie needs --refresh-cookie-path /")
	}
	if !s.enabled {
		return nil
	}
	if len(cors) == 1 && cors[0] == "*" {
		return invalid("refresh-cookie", `does not go with --cors-allowed-origins "*": list the origins whose pages may use the cookie`)
	}
	if !https {
		if !s.insecureDev {
			return invalid("refresh-cookie", "needs HTTPS: set --tls-cert-file and --tls-key-file, or --trusted-proxies for a reverse proxy that terminates TLS (--refresh-cookie-insecure-dev for local development over http://127.0.0.1 only)")
		}
		s.overHTTP = true
	}
	return nil
}

// config is the httpapi form of the settings.
func (s *cookieSettings) config() httpapi.RefreshCookie {
	return httpapi.RefreshCookie{Enabled: s.enabled, Name: s.name, Path: s.path}
}

// warn logs, once at start-up, that the cookie mode runs without HTTPS.
func (s *cookieSettings) warn(log *slog.Logger) {
	if s.overHTTP {
		log.Warn("refresh cookies served without HTTPS (--refresh-cookie-insecure-dev): for local development over http://127.0.0.1 only")
	}
}
