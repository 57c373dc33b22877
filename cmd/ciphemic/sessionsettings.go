package main

import (
	"flag"
	"time"
)

// defaultSessionMaxLifetime ends a session 30 days after its login, however often it was
// refreshed.
const defaultSessionMaxLifetime = 30 * 24 * time.Hour

// sessionSettings bound how long one login's session may live (simplejwt's sessions
// slide forever with rotation).
type sessionSettings struct {
	idleTimeout time.Duration
	maxLifetime time.Duration
}

func (s *sessionSettings) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.idleTimeout, "session-idle-timeout", 0, "end a session not refreshed for this long (0: the --refresh-token-lifetime)")
	fs.DurationVar(&s.maxLifetime, "session-max-lifetime", defaultSessionMaxLifetime, "end a session this long after its login, however often it is refreshed (0: never, simplejwt's unbounded sliding)")
}

// validate checks the settings against the refresh-token lifetime: an idle timeout past
// it would never be reached, since the last refresh token expires first.
func (s *sessionSettings) validate(refreshLifetime time.Duration) error {
	switch {
	case s.idleTimeout < 0:
		return invalid("session-idle-timeout", "must not be negative (0: the --refresh-token-lifetime)")
	case s.idleTimeout > refreshLifetime:
		return invalid("session-idle-timeout", "must not exceed --refresh-token-lifetime, which ends an idle session first")
	case s.maxLifetime < 0:
		return invalid("session-max-lifetime", "must not be negative (0: unbounded)")
	}
	return nil
}

// idle is the idle timeout in force.
func (s *sessionSettings) idle(refreshLifetime time.Duration) time.Duration {
	if s.idleTimeout == 0 {
		return refreshLifetime
	}
	return s.idleTimeout
}
