package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// trustedProxies decides which forwarding headers to believe. X-Forwarded-For,
// X-Forwarded-Proto and X-Forwarded-Host are set by whoever sends the request, so they are
// honoured only when the TCP peer is a proxy the operator listed; otherwise the socket is
// the truth.
type trustedProxies []netip.Prefix

// trusts reports whether the request's TCP peer is a configured proxy.
func (tp trustedProxies) trusts(r *http.Request) bool {
	if len(tp) == 0 {
		return false
	}
	peer, ok := peerAddr(r)
	if !ok {
		return false
	}
	for _, p := range tp {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// clientIP is the address of the client: the socket peer, or, behind trusted proxies, the
// right-most X-Forwarded-For entry that is not itself a trusted proxy (entries to its left
// are whatever the client chose to send).
func (tp trustedProxies) clientIP(r *http.Request) netip.Addr {
	peer, _ := peerAddr(r)
	if !tp.trusts(r) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		addr = addr.Unmap()
		if !tp.containsAddr(addr) {
			return addr
		}
	}
	return peer
}

func (tp trustedProxies) containsAddr(a netip.Addr) bool {
	for _, p := range tp {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// baseURL is the scheme and host the client used ("https://api.example.com"), for the
// absolute links DRF puts in paginated lists. Behind a trusted proxy it honours
// X-Forwarded-Proto and X-Forwarded-Host. The host is the one withAllowedHosts checks
// (host), so no link is built from a host the operator did not allow.
func (tp trustedProxies) baseURL(r *http.Request) string {
	scheme, host := "http", tp.host(r)
	if r.TLS != nil {
		scheme = "https"
	}
	if tp.trusts(r) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
	}
	if !validHost(host) {
		host = r.Host
	}
	return scheme + "://" + host
}

// host is the host[:port] the client addressed: the Host header or, behind a trusted
// proxy that sends one, X-Forwarded-Host (its client-most value).
func (tp trustedProxies) host(r *http.Request) string {
	if tp.trusts(r) {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			return h
		}
	}
	return r.Host
}

// firstValue is the first element of a comma-separated header (the client-most proxy's).
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost accepts a host[:port] with no characters that could change a URL's meaning.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	return !strings.ContainsAny(h, "/\\?#@ \t\"'<>")
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// parseTrustedProxies reads a comma-separated list of CIDR prefixes or single addresses.
func parseTrustedProxies(list string) (trustedProxies, error) {
	var tp trustedProxies
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, badProxy(item)
			}
			tp = append(tp, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, badProxy(item)
		}
		tp = append(tp, p.Masked())
	}
	return tp, nil
}

// badProxy says what a --trusted-proxies item should have been, where netip's error would
// quote its own call (ParseAddr("notanip")).
func badProxy(item string) error {
	return fmt.Errorf("%q is not an IP address or CIDR prefix (e.g. 10.0.0.0/8, 192.0.2.1)", item)
}

// ParseTrustedProxies validates a --trusted-proxies value ("10.0.0.0/8, 192.0.2.1").
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	return parseTrustedProxies(list)
}
