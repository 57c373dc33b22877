package main

import (
	"flag"
	"time"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// throttleSettings are the login-throttle settings of `ciphemic serve`
// (docs/LOGIN-THROTTLE.md).
type throttleSettings struct {
	enabled       bool
	freeFailures  int
	maxDelay      time.Duration
	perAddress    int
	addressWindow time.Duration
}

func (s *throttleSettings) register(fs *flag.FlagSet) {
	d := httpapi.DefaultLoginThrottle()
	fs.BoolVar(&s.enabled, "login-throttle", true, "limit failed logins per username and per client address (false only for test environments)")
	fs.IntVar(&s.freeFailures, "login-throttle-free-failures", d.FreeFailures, "consecutive failed logins of a username before back-off starts")
	fs.DurationVar(&s.maxDelay, "login-throttle-max-delay", d.MaxDelay, "longest back-off of a username: the most one failure can lock a user out for")
	fs.IntVar(&s.perAddress, "login-throttle-per-address", d.AddressFailures, "failed logins allowed from one client address (IPv6: one /64) per --login-throttle-address-window, per instance")
	fs.DurationVar(&s.addressWindow, "login-throttle-address-window", d.AddressWindow, "window of --login-throttle-per-address")
}

// maxLoginDelay keeps the back-off cap short of the time failures are remembered.
const maxLoginDelay = httpapi.LoginFailureMemory / 2

func (s *throttleSettings) validate() error {
	switch {
	case s.freeFailures < 1:
		return invalid("login-throttle-free-failures", "must be at least 1")
	case s.maxDelay < time.Second:
		return invalid("login-throttle-max-delay", "must be at least 1s")
	case s.maxDelay > maxLoginDelay:
		return invalid("login-throttle-max-delay", "must be at most %v: a longer cap lets an attacker lock users out", maxLoginDelay)
	case s.perAddress < 1:
		return invalid("login-throttle-per-address", "must be at least 1")
	case s.addressWindow <= 0:
		return invalid("login-throttle-address-window", "must be positive")
	}
	return nil
}

// config is the httpapi form of the settings.
func (s *throttleSettings) config() httpapi.LoginThrottle {
	return httpapi.LoginThrottle{
		Disabled:        !s.enabled,
		FreeFailures:    s.freeFailures,
		MaxDelay:        s.maxDelay,
		AddressFailures: s.perAddress,
		AddressWindow:   s.addressWindow,
	}
}
