package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const bodyInvalidHost = `{"detail":"Invalid host header."}`

// TestAllowedHostsMatch: Host headers are compared by their host part (any port),
// case-insensitively, without a trailing dot, IPv6 in brackets by address; ".example.com"
// admits the domain and its subdomains; "*" any well-formed host; malformed ones none.
func TestAllowedHostsMatch(t *testing.T) {
	tests := []struct {
		patterns []string
		allowed  []string
		refused  []string
	}{
		{nil, // the default
			[]string{"localhost", "localhost:8000", "LOCALHOST", "localhost.", "app.localhost:3000",
				"127.0.0.1", "127.0.0.1:8000", "[::1]", "[::1]:8000", "[0:0:0:0:0:0:0:1]:80"},
			[]string{"evil.example", "evil.example:8000", "127.0.0.2", "10.0.0.1", "", "::1", "localhost:",
				"localhost:http", "localhost:8000:9", "localhost:123456", "[::1]x", "[::1", "[::1]:",
				"localhost@evil.example", "localhost/evil", "evil.example#localhost", "localhost..",
				".localhost", "*", "[fe80::1%25lo]", "[127.0.0.1]", "local host"}},
		{[]string{".example.com", "api.test", "192.0.2.1", "[2001:db8::1]"},
			[]string{"example.com", "a.example.com", "a.b.example.com:443", "EXAMPLE.COM.", "api.test:8000",
				"192.0.2.1:8000", "[2001:DB8::1]:443", "[2001:db8:0::1]"},
			[]string{"badexample.com", "example.com.evil.example", "x.api.test", "192.0.2.2", "[2001:db8::2]",
				"localhost", "127.0.0.1"}},
		{[]string{"*"},
			[]string{"anything.example", "127.0.0.1:1", "[2001:db8::1]"},
			[]string{"", "a b", "evil.example/x", "evil.example?", "a@b"}},
		{[]string{".0.1"}, nil, []string{"10.0.0.1"}}, // a domain never matches an address
		{[]string{"Example.COM.", "not a host", "*.bad.example"},
			[]string{"example.com"}, []string{"not a host", "x.bad.example"}},
	}
	for _, tt := range tests {
		hosts := newAllowedHosts(tt.patterns)
		for _, h := range tt.allowed {
			if !hosts.allows(h) {
				t.Errorf("allowed hosts %q: allows(%q) = false, want true", tt.patterns, h)
			}
		}
		for _, h := range tt.refused {
			if hosts.allows(h) {
				t.Errorf("allowed hosts %q: allows(%q) = true, want false", tt.patterns, h)
			}
		}
	}
}

// TestParseAllowedHosts: --allowed-hosts entries are normalised as Host headers are
// compared; URLs, ports, "*.domain", "*" among others and malformed names are refused.
func TestParseAllowedHosts(t *testing.T) {
	good := []struct {
		list string
		want []string
	}{
		{"", nil},
		{" , ", nil},
		{" api.example.com , .Example.org. ,192.0.2.1, ::1, [2001:DB8:0::1]",
			[]string{"api.example.com", ".example.org", "192.0.2.1", "[::1]", "[2001:db8::1]"}},
		{"*", []string{"*"}},
		{"a.test,A.TEST,a.test.", []string{"a.test"}},
		{"my_service", []string{"my_service"}}, // docker-compose service names
	}
	for _, tt := range good {
		got, err := ParseAllowedHosts(tt.list)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseAllowedHosts(%q) = %q, %v; want %q", tt.list, got, err, tt.want)
		}
	}
	bad := []struct{ list, mention string }{
		{"https://api.example.com", "not URLs"},
		{"*.example.com", ".example.com"},
		{"api.example.com:8000", "without a port"},
		{"[::1]:8000", "without a port"},
		{"*, api.example.com", `"*"`},
		{"a..b", "a..b"},
		{".", `"."`},
		{"a b", "a b"},
		{"ok.example, -bad!", "-bad!"},
		{".192.0.2.1", "IP address"},
		{"[fe80::1%eth0]", "fe80::1%eth0"},
		{"[192.0.2.1]", "192.0.2.1"},
	}
	for _, tt := range bad {
		got, err := ParseAllowedHosts(tt.list)
		if err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseAllowedHosts(%q) = %q, %v; want an error mentioning %s", tt.list, got, err, tt.mention)
		}
	}
}

// TestParsePublicURL: an absolute http(s) URL without query or fragment, normalised; a
// path is a clean prefix; a password in it is never repeated in the error.
func TestParsePublicURL(t *testing.T) {
	good := map[string]string{
		"https://API.Example.com":           "https://api.example.com",
		"HTTPS://api.example.com/":          "https://api.example.com",
		"https://api.example.com:443":       "https://api.example.com",
		"http://127.0.0.1:8000":             "http://127.0.0.1:8000",
		"https://example.com/ciphemic/":     "https://example.com/ciphemic",
		"https://example.com/a%20b/c":       "https://example.com/a%20b/c",
		"https://[2001:DB8::1]:8443/api/v1": "https://[2001:db8::1]:8443/api/v1",
	}
	for in, want := range good {
		if got, err := ParsePublicURL(in); err != nil || got != want {
			t.Errorf("ParsePublicURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "api.example.com", "/api", "//api.example.com", "ftp://api.example.com",
		"https://", "https:api.example.com", "https://user:s3cret@api.example.com", "https://api.example.com/?a=1",
		"https://api.example.com/?", "https://api.example.com/#top", "https://api.example.com#",
		"https://api.example.com/a/../b", "https://api.example.com//a", "https://api.example.com/./a",
		"https://api.example.com:99999", "https://*.example.com", "https://[fe80::1%25eth0]", "https://a b"} {
		got, err := ParsePublicURL(in)
		if err == nil {
			t.Errorf("ParsePublicURL(%q) = %q, want an error", in, got)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParsePublicURL error %q repeats the password", err)
		}
	}
}

// TestHostHeaderRefused is the review's case: a direct client's Host is checked before
// anything else, so "Host: evil.example" gets 400 instead of links to evil.example, on
// every route but the operations probes; allowed hosts (localhost, loopback, any port)
// get their links.
func TestHostHeaderRefused(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	for i := range 2 {
		in.mustCourse(t, fmt.Sprintf("H%d", i), s.teacher.user, 10)
	}
	const list = "/api/school/courses/?page_size=1"
	for _, host := range []string{"evil.example", "evil.example:" + in.port(t), "127.0.0.1.evil.example", "localhost:8000@evil.example"} {
		r := in.call(t, s.student, "GET", list, nil, "Host: "+host)
		wantStatusBody(t, r, http.StatusBadRequest, bodyInvalidHost)
		if strings.Contains(string(r.body), "evil") {
			t.Errorf("Host %q: the answer %s names the host", host, r.body)
		}
	}
	for _, path := range []string{"/api/schema/", "/api/token/", "/nope", "/healthz/../api/schema/"} {
		wantStatusBody(t, in.do(t, "GET", path, "", nil, "Host: evil.example"), http.StatusBadRequest, bodyInvalidHost)
	}
	for _, path := range []string{"/healthz", "/healthz/", "/readyz", "/metrics"} {
		if r := in.do(t, "GET", path, "", nil, "Host: 10.1.2.3:8000"); r.status != http.StatusOK {
			t.Errorf("GET %s with the instance's IP as Host = %d %s, want 200 (probes are exempt)", path, r.status, r.body)
		}
	}
	for _, host := range []string{"localhost:" + in.port(t), "LocalHost.", "[::1]:" + in.port(t), "127.0.0.1"} {
		p := mustPage(t, in.call(t, s.student, "GET", list, nil, "Host: "+host))
		if want := "http://" + host + "/api/school/courses/?page=2&page_size=1"; strOrNil(p.Next) != want {
			t.Errorf("Host %q: next = %s, want %s", host, strOrNil(p.Next), want)
		}
	}
}

// TestHostHeaderCORSPreflight: a refused host gets no CORS grant, not even to a preflight
// from an allowed origin.
func TestHostHeaderCORSPreflight(t *testing.T) {
	in := newInstance(t, options{cfg: &Config{CORSAllowedOrigins: []string{"https://app.example.com"}}})
	r := in.do(t, "OPTIONS", "/api/me/", "", nil, "Host: evil.example",
		"Origin: https://app.example.com", "Access-Control-Request-Method: GET")
	wantStatusBody(t, r, http.StatusBadRequest, bodyInvalidHost)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight to a refused host: Access-Control-Allow-Origin = %q, want none", got)
	}
}

// TestHostHeaderForwarded: behind a trusted proxy the X-Forwarded-Host it sends is the
// host checked (and linked to), the proxy's own Host need not be allowed; from anyone
// else X-Forwarded-Host is ignored and the Host header is checked.
func TestHostHeaderForwarded(t *testing.T) {
	tests := []struct {
		name, proxies string
		headers       []string
		want          string // the next link's base, or "" for 400
	}{
		{"trusted, allowed", "127.0.0.0/8", []string{"Host: ciphemic-internal:8000", "X-Forwarded-Host: api.example.com"}, "http://api.example.com"},
		{"trusted, allowed, TLS at the proxy", "127.0.0.0/8", []string{"X-Forwarded-Host: API.example.com:8443", "X-Forwarded-Proto: https"}, "https://API.example.com:8443"},
		{"trusted, refused", "127.0.0.0/8", []string{"X-Forwarded-Host: evil.example"}, ""},
		{"trusted, refused first value", "127.0.0.0/8", []string{"X-Forwarded-Host: evil.example, api.example.com"}, ""},
		{"trusted, malformed", "127.0.0.0/8", []string{"X-Forwarded-Host: api.example.com/evil"}, ""},
		{"trusted, none sent", "127.0.0.0/8", []string{"Host: api.example.com"}, "http://api.example.com"},
		{"untrusted, ignored", "10.0.0.0/8", []string{"X-Forwarded-Host: evil.example"}, "http://127.0.0.1:PORT"},
		{"untrusted, Host checked", "10.0.0.0/8", []string{"Host: evil.example", "X-Forwarded-Host: api.example.com"}, ""},
		{"no proxies, Host checked", "", []string{"Host: evil.example", "X-Forwarded-Host: api.example.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var proxies []netip.Prefix
			if tt.proxies != "" {
				proxies = []netip.Prefix{netip.MustParsePrefix(tt.proxies)}
			}
			in := newInstance(t, options{cfg: &Config{TrustedProxies: proxies, AllowedHosts: []string{"api.example.com", "127.0.0.1"}}})
			s := newSchool(t, in)
			for i := range 2 {
				in.mustCourse(t, fmt.Sprintf("F%d", i), s.teacher.user, 10)
			}
			r := in.call(t, s.student, "GET", "/api/school/courses/?page_size=1", nil, tt.headers...)
			if tt.want == "" {
				wantStatusBody(t, r, http.StatusBadRequest, bodyInvalidHost)
				return
			}
			want := strings.Replace(tt.want, "PORT", in.port(t), 1) + "/api/school/courses/?page=2&page_size=1"
			if got := strOrNil(mustPage(t, r).Next); got != want {
				t.Errorf("next = %s, want %s", got, want)
			}
		})
	}
}

// TestPublicURLLinks: with PublicURL, links are built from it alone (its path prefix in
// front), whatever Host or forwarded headers say, and it is the API's own origin.
func TestPublicURLLinks(t *testing.T) {
	cfg := Config{
		PublicURL:      "https://api.example.com/school/",
		AllowedHosts:   []string{"127.0.0.1", "other.example"},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}
	in := newInstance(t, options{cfg: &cfg})
	s := newSchool(t, in)
	for i := range 3 {
		in.mustCourse(t, fmt.Sprintf("P%d", i), s.teacher.user, 10)
	}
	const base = "https://api.example.com/school/api/school/courses/"
	for _, headers := range [][]string{nil, {"X-Forwarded-Host: other.example", "X-Forwarded-Proto: http"}} {
		p := mustPage(t, in.call(t, s.student, "GET", "/api/school/courses/?page=2&page_size=1&search=P", nil, headers...))
		if next, prev := strOrNil(p.Next), strOrNil(p.Previous); next != base+"?page=3&page_size=1&search=P" || prev != base+"?page_size=1&search=P" {
			t.Errorf("headers %q: next, previous = %s, %s; want links under %s", headers, next, prev, base)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "other.example"
	if got := newLinkBase(cfg).origin(r); got != "https://api.example.com" {
		t.Errorf("origin = %q, want https://api.example.com", got)
	}
	if got := newLinkBase(Config{}).origin(r); got != "http://other.example" {
		t.Errorf("origin without PublicURL = %q, want http://other.example (the request's)", got)
	}
}

// port is the test server's port.
func (in *instance) port(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(in.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// FuzzAllowedHostsAny: whatever a client sends as its host, one the check lets through,
// even with "*", is safe to build a link from: a URL made from it has exactly that host
// and the path that follows.
func FuzzAllowedHostsAny(f *testing.F) {
	for _, s := range []string{"localhost:8000", "[::1]:80", "EXAMPLE.com.", "a/b", "a@b", "a?b", "a#b",
		"a\\b", "évil.example", "[::1]x", "x:1:2", "[fe80::1%25lo]", "a b", ""} {
		f.Add(s)
	}
	anyHost := newAllowedHosts([]string{"*"})
	f.Fuzz(func(t *testing.T, host string) {
		if !anyHost.allows(host) {
			return
		}
		u, err := url.Parse("http://" + host + "/api/users/")
		if err != nil || u.Host != host || u.Path != "/api/users/" || !validHost(host) {
			t.Fatalf("allowed host %q makes the link %v (%v)", host, u, err)
		}
	})
}
