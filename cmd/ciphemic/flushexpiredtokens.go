package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// runFlushExpiredTokens is `ciphemic flushexpiredtokens`, simplejwt's command of that name:
// expired refresh-token rows (and expired revocations, stale failed-login counts and audit
// events past --audit-retention) are deleted; run it from cron.
func runFlushExpiredTokens(ctx context.Context, args []string, e env) error {
	var (
		ss storeSettings
		as auditSettings
	)
	fs := newFlagSet("flushexpiredtokens")
	ss.register(fs)
	as.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if err := as.validate(); err != nil {
		return err
	}
	db, err := openExisting(ctx, ss)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	n, err := db.FlushExpired(ctx, now)
	if err != nil {
		return fmt.Errorf("flush expired tokens: %w", err)
	}
	fmt.Fprintf(e.stdout, "Deleted %d expired refresh tokens.\n", n)
	// Failed-login counts older than the throttle remembers them would restart anyway.
	n, err = db.FlushLoginFailures(ctx, now.Add(-httpapi.LoginFailureMemory))
	if err != nil {
		return fmt.Errorf("flush login failures: %w", err)
	}
	fmt.Fprintf(e.stdout, "Deleted %d stale failed-login counts.\n", n)
	if n, err = pruneAudit(ctx, db, as.retention, now); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted %d audit events older than --audit-retention.\n", n)
	return nil
}
