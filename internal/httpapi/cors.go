package httpapi

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The CORS answer. Authorization and Content-Type are all a browser client sends; the
// exposed headers are those a client needs to read: Retry-After of a 429 and the request
// id to quote in a support request.
const (
	corsAllowMethods  = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type"
	corsExposeHeaders = "Retry-After, X-Request-Id"
	// corsMaxAge (seconds) lets a browser skip preflights for a while, short enough that a
	// change of the allow-list applies soon.
	corsMaxAge = "600"
)

// ParseCORSOrigins parses a comma-separated list of origins allowed to call the API from a
// browser: each scheme://host[:port] with scheme http or https and nothing after the
// host, lower-cased and without a default port, since browsers send origins that way. "*"
// (any origin) is accepted only alone. An empty list allows no cross-origin calls.
//
// "*" never goes with Access-Control-Allow-Credentials. With Bearer tokens the header is
// never sent; the refresh-cookie mode (csrf.go, withCookieCORS) sends it only to listed
// origins, and serve refuses to start with that mode and "*".
func ParseCORSOrigins(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var origins []string
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "*" {
			if strings.TrimSpace(list) != "*" {
				return nil, fmt.Errorf(`"*" must be the only entry`)
			}
			return []string{"*"}, nil
		}
		origin, err := parseOrigin(entry)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(origins, origin) {
			origins = append(origins, origin)
		}
	}
	return origins, nil
}

// parseOrigin returns entry as a browser serialises an origin, or an error naming it (an
// origin is public, so it may be quoted).
func parseOrigin(entry string) (string, error) {
	u, err := url.Parse(entry)
	if err != nil || entry == "" {
		return "", fmt.Errorf("%q is not an origin like https://app.example.com", entry)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("%q: the scheme must be http or https", entry)
	case u.Opaque != "" || u.User != nil || u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q: want scheme://host[:port]", entry)
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(entry, "#"):
		return "", fmt.Errorf("%q: an origin has no path, query or fragment (not even a trailing /)", entry)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return "", fmt.Errorf("%q: an origin has no IPv6 zone", entry)
		}
		if addr.Is6() {
			host = "[" + host + "]"
		}
	} else if !validOriginHost(host) {
		return "", fmt.Errorf("%q: the host is not a DNS name (no wildcards: list each origin)", entry)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: bad port", entry)
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		} else {
			port = ":" + strconv.Itoa(n)
		}
	}
	return scheme + "://" + host + port, nil
}

// withCORS lets the browser pages of the allowed origins call the API. A preflight from
// an allowed origin is answered here, before authentication (browsers send it without
// credentials); other requests from an allowed origin get the headers that let the page
// read the response, errors included. A request from any other origin gets no CORS
// header, so the browser keeps its response from the page. With no origins the chain is
// unchanged.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := len(origins) == 1 && origins[0] == "*"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The answer depends on Origin, also when it is absent, so caches must key on it.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || !(anyOrigin || slices.Contains(origins, origin)) {
			next.ServeHTTP(w, r)
			return
		}
		allow := origin
		if anyOrigin {
			allow = "*"
		}
		h.Set("Access-Control-Allow-Origin", allow)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		next.ServeHTTP(w, r)
	})
}

// validOriginHost reports whether s is a DNS name: non-empty labels of letters, digits, hyphens
// and underscores.
func validOriginHost(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
