package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"time"

	"github.com/ciphemic/ciphemic/internal/httpapi"
	"github.com/ciphemic/ciphemic/internal/store"
)

// defaultHousekeepingInterval is how often serve deletes expired rows. Each run deletes
// what expired since the last one, a few batches at most, so running often keeps every run
// short.
const defaultHousekeepingInterval = 10 * time.Minute

// expiryMargin is how long after their expiry refresh tokens and revocations are kept.
// Instances and the host running flushexpiredtokens do not share a clock: one whose clock
// runs behind may still take a token for live and, if it was spent, detect its reuse, which
// needs its row. A minute covers ordinary clock skew and costs nothing.
const expiryMargin = time.Minute

// housekeepingSettings are serve's housekeeping settings.
type housekeepingSettings struct {
	interval nonNegativeDuration
}

func (s *housekeepingSettings) register(fs *flag.FlagSet) {
	s.interval = nonNegativeDuration(defaultHousekeepingInterval)
	fs.Var(&s.interval, "housekeeping-interval",
		"`duration` between two housekeeping runs of serve, which delete expired refresh tokens and revocations and stale failed-login counts in small batches (0: none; then run flushexpiredtokens from cron)")
}

// nonNegativeDuration is a duration flag that refuses negative values as it parses, so
// that a bad value is reported naming its flag or CIPHEMIC_* variable.
type nonNegativeDuration time.Duration

func (d *nonNegativeDuration) String() string { return time.Duration(*d).String() }

func (d *nonNegativeDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (e.g. 10m, 1h)")
	}
	if v < 0 {
		return errors.New("must not be negative (0 turns it off)")
	}
	*d = nonNegativeDuration(v)
	return nil
}

// sweepStore is what housekeeping needs of the store.
type sweepStore interface {
	Sweep(ctx context.Context, s store.Sweep) (store.Swept, error)
}

// expiredAt is the sweep of serve and flushexpiredtokens at now: refresh tokens and
// revocations expired more than expiryMargin ago, failed-login counts older than the login
// throttle remembers them (they would start again at 1 anyway).
func expiredAt(now time.Time) store.Sweep {
	return store.Sweep{
		Now:                 now.Add(-expiryMargin),
		LoginFailuresBefore: now.Add(-httpapi.LoginFailureMemory),
	}
}

// startHousekeeper runs the housekeeper in the background unless s turns it off.
func startHousekeeper(ctx context.Context, db sweepStore, s housekeepingSettings, log *slog.Logger) {
	if s.interval > 0 {
		go runHousekeeper(ctx, db, time.Duration(s.interval), time.Now, log)
	}
}

// runHousekeeper sweeps at once and then every interval, at the time now says, until ctx
// is done. A sweep deletes in batches, so requests get the writer between them; a failure
// is logged and retried at the next tick, since the rows only stay a little longer.
func runHousekeeper(ctx context.Context, db sweepStore, interval time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		swept, err := db.Sweep(ctx, expiredAt(now()))
		// What a failed or interrupted sweep deleted before it stopped stays deleted.
		if swept.Total() > 0 {
			log.Info("housekeeping deleted expired rows", "refresh_tokens", swept.RefreshTokens,
				"revocations", swept.Revocations, "login_failures", swept.LoginFailures, "sessions", swept.Sessions,
				"took", time.Since(start).Round(time.Millisecond).String())
		}
		if err != nil && ctx.Err() == nil {
			log.Error("housekeeping failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
