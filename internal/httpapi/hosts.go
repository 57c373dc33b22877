package httpapi

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
)

// The host check is Django's ALLOWED_HOSTS. The absolute links of paginated lists are
// built from the host the client addressed; without a check, a request with
// "Host: evil.example" gets links to evil.example, which a shared cache in front of the
// API would hand to everyone (web cache poisoning; RFC 9110 §7.4 lets a server refuse an
// authority it does not serve). A page on a DNS name rebound to the server's address is
// refused the same way, since its requests carry that name.

// DefaultAllowedHosts are the hosts allowed when Config.AllowedHosts is empty: localhost
// and its subdomains (which resolve to loopback, RFC 6761 §6.3) and the loopback
// addresses, as Django allows with DEBUG and an empty ALLOWED_HOSTS.
func DefaultAllowedHosts() []string {
	return []string{".localhost", "127.0.0.1", "[::1]"}
}

// opsPaths are exempt from the host check: load balancers and Prometheus address an
// instance by its IP, which no allow-list can know in advance, and these answers build no
// link and say nothing that depends on the host.
var opsPaths = map[string]bool{
	"/healthz": true, "/healthz/": true,
	"/readyz": true, "/readyz/": true,
	"/metrics": true, "/metrics/": true,
}

// withAllowedHosts answers 400 "Invalid host header." to a request whose host, the one
// links would be built from (trustedProxies.host), is not allowed. Refusals are logged,
// the host cut short (a client chooses it): they are the operator's clue to a missing
// --allowed-hosts entry.
func withAllowedHosts(hosts allowedHosts, proxies trustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opsPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if host := proxies.host(r); !hosts.allows(host) {
			loggerFrom(r.Context()).Warn("invalid host header", "host", host[:min(len(host), 255)])
			writeError(w, r, errInvalidHost)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedHosts is a parsed allow-list.
type allowedHosts struct {
	any     bool
	exact   map[string]bool
	domains []string // ".example.com": the domain and its subdomains
}

// newAllowedHosts builds the list from patterns as ParseAllowedHosts returns them; an
// entry it cannot parse matches nothing.
func newAllowedHosts(patterns []string) allowedHosts {
	if len(patterns) == 0 {
		patterns = DefaultAllowedHosts()
	}
	a := allowedHosts{exact: map[string]bool{}}
	for _, p := range patterns {
		p, err := ParseAllowedHost(p)
		switch {
		case err != nil: // matches nothing: fail closed
		case p == "*":
			a.any = true
		case strings.HasPrefix(p, "."):
			a.domains = append(a.domains, p)
		default:
			a.exact[p] = true
		}
	}
	return a
}

// allows reports whether a Host header value (host[:port]) is well-formed and allowed.
// Even "*" requires a well-formed host, since links are built from it.
func (a allowedHosts) allows(hostport string) bool {
	// Most requests name an allowed host exactly as the list writes it: entries are in
	// their normal form, which normalising leaves as it is, so such a host is allowed
	// without the parse (and its allocations) below.
	host, portOK := hostport, true
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, portOK = hostport[:i], validPort(hostport[i+1:])
	}
	if portOK && a.exact[host] {
		return true
	}
	name, isIP, ok := hostName(hostport)
	if !ok {
		return false
	}
	if a.any || a.exact[name] {
		return true
	}
	if isIP {
		return false // ".0.1" is no domain of 10.0.0.1
	}
	return slices.ContainsFunc(a.domains, func(d string) bool {
		return name == d[1:] || strings.HasSuffix(name, d)
	})
}

// hostName returns the host of a Host header without its port, as allow-list entries are
// written: lower case, without a trailing dot, an IP address in its canonical form (IPv6
// in brackets). ok is false for anything that is not a DNS name or an IP address with an
// optional port.
func hostName(hostport string) (name string, isIP, ok bool) {
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", false, false
		}
		host, port = hostport[:end+1], hostport[end+1:]
	} else if i := strings.IndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
	}
	if port != "" && (port[0] != ':' || !validPort(port[1:])) {
		return "", false, false
	}
	name, err := ParseAllowedHost(host)
	if err != nil || name == "*" || strings.HasPrefix(name, ".") {
		return "", false, false
	}
	return name, strings.HasPrefix(name, "[") || isIPv4(name), true
}

func isIPv4(s string) bool {
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Is4()
}

// validPort reports whether s is a port number: 1 to 5 digits.
func validPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseAllowedHosts parses a --allowed-hosts value: comma-separated host names
// ("api.example.com"), ".example.com" for a domain and all its subdomains, IP addresses
// ("192.0.2.1", "[2001:db8::1]"), or "*" alone for any host (never the default). An
// empty list means DefaultAllowedHosts.
func ParseAllowedHosts(list string) ([]string, error) {
	var hosts []string
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		host, err := ParseAllowedHost(entry)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	if slices.Contains(hosts, "*") && len(hosts) > 1 {
		return nil, fmt.Errorf(`"*" (any host) must be the only entry`)
	}
	return hosts, nil
}

// ParseAllowedHost normalises one allow-list entry: lower case, one trailing dot dropped
// (a fully qualified "example.com." is the same host), IP addresses canonical with IPv6 in
// brackets. Host names are public, so errors quote the entry.
func ParseAllowedHost(entry string) (string, error) {
	e := strings.ToLower(entry)
	switch {
	case e == "*":
		return e, nil
	case strings.Contains(e, "/"):
		return "", fmt.Errorf("%q: list host names, not URLs", entry)
	case strings.HasPrefix(e, "*."):
		return "", fmt.Errorf("%q: write %s for a domain and its subdomains", entry, e[1:])
	}
	if ip, ok := parseHostIP(e); ok {
		return ip, nil
	}
	domain := strings.HasPrefix(e, ".")
	name := strings.TrimSuffix(strings.TrimPrefix(e, "."), ".")
	switch {
	case strings.Contains(name, ":"):
		return "", fmt.Errorf("%q: list host names without a port", entry)
	case name == "" || !validOriginHost(name):
		return "", fmt.Errorf("%q is not a host name, .domain or IP address", entry)
	case domain && isIPv4(name):
		return "", fmt.Errorf("%q: a leading dot goes with a domain name, not an IP address", entry)
	case domain:
		return "." + name, nil
	}
	return name, nil
}

// parseHostIP returns an IP address entry in canonical form: IPv4 as is, IPv6 (with or
// without brackets) in brackets, as it appears in a Host header. Zones are refused: no
// client can name one in a URL's host.
func parseHostIP(e string) (string, bool) {
	s := e
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" || (addr.Is4() && s != e) {
		return "", false
	}
	if addr.Is6() {
		return "[" + addr.String() + "]", true
	}
	return addr.String(), true
}

// ParsePublicURL validates a --public-url value, the base URL clients use
// ("https://api.example.com"), and returns it normalised: scheme and host in lower case,
// no default port, no trailing slash. A path ("https://example.com/ciphemic") is the
// prefix under which a reverse proxy that strips it serves the API; links get it in front
// of the API's own paths. The value is not quoted in errors: it might hold a password.
func ParsePublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL; want an absolute URL like https://api.example.com")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("want an absolute http:// or https:// URL like https://api.example.com")
	case u.Opaque != "" || u.Host == "":
		return "", fmt.Errorf("want scheme://host[:port][/path]")
	case u.User != nil:
		return "", fmt.Errorf("a public URL has no user:password@")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return "", fmt.Errorf("a public URL has no query or fragment")
	}
	origin, err := parseOrigin(scheme + "://" + u.Host)
	if err != nil {
		return "", fmt.Errorf("the host must be a DNS name or an IP address, the port 1 to 65535")
	}
	prefix := strings.TrimSuffix(u.EscapedPath(), "/")
	if prefix != "" && path.Clean(prefix) != prefix {
		return "", fmt.Errorf("the path must be a clean prefix like /ciphemic (no //, . or ..)")
	}
	return origin + prefix, nil
}

// linkBase builds the absolute URLs of links and names the API's own origin: from
// Config.PublicURL alone when it is set, otherwise from the request as the client
// addressed it (behind trusted proxies too).
type linkBase struct {
	proxies trustedProxies
	// public is the normalised PublicURL, publicOrigin its scheme://host[:port].
	public, publicOrigin string
}

// newLinkBase is the link base of cfg. An invalid PublicURL is a programming error
// (serve validates it with ParsePublicURL), which would otherwise produce broken links
// silently.
func newLinkBase(cfg Config) linkBase {
	b := linkBase{proxies: trustedProxies(cfg.TrustedProxies)}
	if cfg.PublicURL == "" {
		return b
	}
	public, err := ParsePublicURL(cfg.PublicURL)
	if err != nil {
		panic("httpapi: Config.PublicURL: " + err.Error())
	}
	u, _ := url.Parse(public)
	b.public, b.publicOrigin = public, u.Scheme+"://"+u.Host
	return b
}

// baseURL is what the links of a request start with, before the API's own path.
func (b linkBase) baseURL(r *http.Request) string {
	if b.public != "" {
		return b.public
	}
	return b.proxies.baseURL(r)
}

// origin is the API's own origin for the CORS and CSRF checks of a request.
func (b linkBase) origin(r *http.Request) string {
	if b.publicOrigin != "" {
		return b.publicOrigin
	}
	return b.proxies.baseURL(r)
}
