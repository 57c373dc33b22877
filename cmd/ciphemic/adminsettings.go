package main

import (
	"flag"
	"net"
	"net/netip"
)

// adminSettings are serve's operations listener: metrics, probes and pprof for the
// operator, on an address the public cannot reach.
type adminSettings struct {
	addr          string
	publicMetrics bool
}

func (s *adminSettings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.addr, "admin-addr", "", "also listen here (e.g. 127.0.0.1:9090) for the operator: /metrics, /healthz, /readyz and /debug/pprof/, nothing else and without authentication; empty: no such listener")
	fs.BoolVar(&s.publicMetrics, "public-metrics", false, "serve /metrics on --addr too (it is on --admin-addr alone otherwise); /healthz and /readyz are on both always")
}

// validate checks the address's shape; whether it can be listened on is learnt when serve
// listens, as for --addr.
func (s *adminSettings) validate(publicAddr string) error {
	if s.addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		return invalid("admin-addr", "%v", err)
	}
	if s.addr == publicAddr && port != "0" {
		return invalid("admin-addr", "%s is --addr too; the operations listener needs an address of its own", s.addr)
	}
	return nil
}

// exposed reports whether the listener's host is not a loopback address, which serve
// warns about: pprof and metrics are for the operator, not for the network.
func (s *adminSettings) exposed() bool {
	host, _, _ := net.SplitHostPort(s.addr)
	if host == "localhost" {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.IsLoopback()
}
