package main

import (
	"net"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// validateEdge checks the settings of what faces browsers and the network: the CORS
// allow-list, the HTTP→HTTPS redirect listener and the key reload interval.
func (s *serveSettings) validateEdge() error {
	origins, err := httpapi.ParseCORSOrigins(s.corsOrigins)
	if err != nil {
		return invalid("cors-allowed-origins", "%v", err)
	}
	s.cors = origins
	if s.keyReloadInterval < 0 {
		return invalid("key-reload-interval", "must not be negative")
	}
	if s.httpRedirectAddr == "" {
		return nil
	}
	if s.tlsCertFile == "" {
		return invalid("http-redirect-addr", "needs --tls-cert-file and --tls-key-file: it redirects to HTTPS")
	}
	_, port, err := net.SplitHostPort(s.httpRedirectAddr)
	if err != nil {
		return invalid("http-redirect-addr", "%v", err)
	}
	if s.httpRedirectAddr == s.addr && port != "0" {
		return invalid("http-redirect-addr", "must differ from --addr")
	}
	return nil
}
