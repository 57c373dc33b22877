package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// startRedirect serves --http-redirect-addr: every request is sent to the same path and
// query over HTTPS on the port the TLS listener httpsAddr uses. It serves nothing else, so
// no token or password is ever answered over plain HTTP (a client that sent one has leaked
// it already, but gets no response to build on). stop shuts it down.
func startRedirect(addr string, httpsAddr net.Addr, tlsConfig *tls.Config, log *slog.Logger, e env) (stop func(), err error) {
	leaf, err := leafCertificate(tlsConfig)
	if err != nil {
		return nil, err
	}
	_, port, err := net.SplitHostPort(httpsAddr.String())
	if err != nil {
		return nil, fmt.Errorf("redirect: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           redirectHandler(port, leaf),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stdout, "Redirecting http://%s to HTTPS\n", ln.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("redirect listener stopped", "error", err.Error())
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// leafCertificate returns the certificate the TLS listener presents: the redirect only
// names hosts that certificate is valid for.
func leafCertificate(cfg *tls.Config) (*x509.Certificate, error) {
	if cfg == nil || len(cfg.Certificates) == 0 || len(cfg.Certificates[0].Certificate) == 0 {
		return nil, invalid("http-redirect-addr", "needs --tls-cert-file and --tls-key-file")
	}
	if leaf := cfg.Certificates[0].Leaf; leaf != nil {
		return leaf, nil
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		return nil, invalid("tls-cert-file", "%v", err)
	}
	return leaf, nil
}

const (
	redirectBadHost   = `{"detail":"Invalid host."}`
	redirectBadTarget = `{"detail":"Invalid request target."}`
)

// redirectHandler answers 308 Permanent Redirect (the method and body are kept, unlike
// 301) to https://<host>[:port]<path>?<query>. The host comes from the request, so it is
// checked: a well-formed name or address the certificate is valid for, or the answer is
// 400 — never a redirect to wherever a forged Host header points.
func redirectHandler(httpsPort string, leaf *x509.Certificate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := redirectHost(r.Host, leaf)
		if !ok {
			writeRedirectError(w, redirectBadHost)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/") { // "OPTIONS *", or an authority-form target
			writeRedirectError(w, redirectBadTarget)
			return
		}
		target := "https://" + host
		if httpsPort != "443" {
			target = "https://" + net.JoinHostPort(strings.Trim(host, "[]"), httpsPort)
		}
		target += r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		h := w.Header()
		h.Set("Location", target)
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusPermanentRedirect)
	})
}

func writeRedirectError(w http.ResponseWriter, body string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(body))
}

// redirectHost returns the host of a Host header (its port dropped), lower case and with
// IPv6 addresses in brackets, when it is a host name or an IP address that leaf is valid
// for.
func redirectHost(hostHeader string, leaf *x509.Certificate) (string, bool) {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.ToLower(host)
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" || leaf.VerifyHostname(host) != nil {
			return "", false
		}
		if addr.Is6() {
			return "[" + host + "]", true
		}
		return host, true
	}
	if !validHostname(host) || leaf.VerifyHostname(host) != nil {
		return "", false
	}
	return host, true
}

// validHostname reports whether s is a DNS name of letters, digits and hyphens, in
// non-empty labels of at most 63 characters.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
