package main

import (
	"crypto/tls"
	"flag"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// hostSettings say which hosts the API answers for and which base URL its links use
// (httpapi's hosts.go, Django's ALLOWED_HOSTS).
type hostSettings struct {
	allowedHosts string
	publicURL    string
	// hosts is the validated --allowed-hosts, nil when unset; public the normalised
	// --public-url.
	hosts  []string
	public string
}

func (s *hostSettings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.allowedHosts, "allowed-hosts", "", "comma-separated host names the API answers for (.example.com: the domain and its subdomains; * alone: any); others get 400. Unset: localhost, loopback, the --addr host, the --public-url host and the TLS certificate's names")
	fs.StringVar(&s.publicURL, "public-url", "", "base URL clients use (https://api.example.com[/prefix]); when set, links are built from it alone instead of from the request's host")
}

func (s *hostSettings) validate() error {
	hosts, err := httpapi.ParseAllowedHosts(s.allowedHosts)
	if err != nil {
		return invalid("allowed-hosts", "%v", err)
	}
	s.hosts = hosts
	if s.publicURL == "" {
		return nil
	}
	public, err := httpapi.ParsePublicURL(s.publicURL)
	if err != nil {
		return invalid("public-url", "%v", err)
	}
	s.public = public
	return nil
}

// allowed is the allow-list in force: --allowed-hosts when given, as in Django, which adds
// nothing to an explicit ALLOWED_HOSTS; otherwise the hosts this server is evidently
// meant to be reached by. tlsConfig is serve's TLS configuration, or nil.
func (s *hostSettings) allowed(addr string, tlsConfig *tls.Config) []string {
	if len(s.hosts) > 0 {
		return s.hosts
	}
	hosts := httpapi.DefaultAllowedHosts()
	candidates := append([]string{addrHost(addr)}, certificateHosts(tlsConfig)...)
	if s.public != "" {
		u, _ := url.Parse(s.public) // validated
		candidates = append(candidates, u.Hostname())
	}
	for _, c := range candidates {
		// A name that is no valid entry (an IPv6 zone, a SAN with odd characters) could
		// never match a well-formed Host either: skip it.
		if h, err := httpapi.ParseAllowedHost(c); err == nil && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// addrHost is the host --addr names, or "" when it names none: ":8000", "0.0.0.0:8000"
// and "[::]:8000" listen on every interface, which tells nothing of the clients' name.
func addrHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		return ""
	}
	return host
}

// certificateHosts are the names the TLS certificate is valid for, as allow-list entries:
// its DNS names, a wildcard "*.example.com" as ".example.com" (which also admits
// example.com and deeper subdomains: all names of the certificate's owner), and its IP
// addresses. The common name is ignored, as by Go's TLS verification.
func certificateHosts(tlsConfig *tls.Config) []string {
	if tlsConfig == nil {
		return nil
	}
	leaf, err := leafCertificate(tlsConfig)
	if err != nil {
		return nil // loadTLS parsed it already
	}
	var hosts []string
	for _, name := range leaf.DNSNames {
		if rest, ok := strings.CutPrefix(name, "*."); ok {
			name = "." + rest
		}
		hosts = append(hosts, name)
	}
	for _, ip := range leaf.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}
