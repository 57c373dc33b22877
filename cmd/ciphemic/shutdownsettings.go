package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// shutdownSettings say how serve stops on SIGTERM (or SIGINT).
type shutdownSettings struct {
	// delay is how long the listener keeps accepting, with /readyz at 503, before it
	// closes: a balancer that polls /readyz needs a few polls to take the instance out,
	// and until then it still sends requests, which must not meet a closed port.
	delay time.Duration
	// timeout bounds the wait for the requests in flight once the listener is closed.
	timeout time.Duration
}

func (s *shutdownSettings) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.delay, "shutdown-delay", 0,
		"on SIGTERM, keep serving this long with /readyz answering 503 before the listener closes (a balancer's probe interval times its failure threshold)")
	fs.DurationVar(&s.timeout, "shutdown-timeout", 10*time.Second,
		"on SIGTERM, how long requests in flight may take to finish once the listener is closed; the rest are cut")
}

func (s *shutdownSettings) validate() error {
	switch {
	case s.delay < 0:
		return invalid("shutdown-delay", "must not be negative")
	case s.timeout <= 0:
		return invalid("shutdown-timeout", "must be positive")
	}
	return nil
}

// drain stops srv gracefully: /readyz turns 503 at once (draining), the listener keeps
// accepting for the delay, then closes, and the requests in flight get up to the timeout
// to finish. serve's log is flushed after it returns, when the last request has been logged.
func (s shutdownSettings) drain(srv *http.Server, draining *atomic.Bool, log *slog.Logger) error {
	draining.Store(true)
	log.Info("shutting down", "delay", s.delay.String(), "timeout", s.timeout.String())
	time.Sleep(s.delay)
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close() // cut what is left; the timeout is the error to report
		return fmt.Errorf("shutdown: requests still in flight after --shutdown-timeout %v", s.timeout)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("shut down")
	return nil
}
