package main

import (
	"context"
	"fmt"
	"time"
)

// runFlushExpiredTokens is `ciphemic flushexpiredtokens`, simplejwt's command of that name:
// expired refresh-token rows (and expired revocations, stale failed-login counts and audit
// events past --audit-retention) are deleted; run it from cron when serve's housekeeper is
// off (--housekeeping-interval 0).
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
	// The same batches as serve's housekeeper, so that running this from cron next to
	// serving instances never holds the store's writer for long.
	swept, err := db.Sweep(ctx, expiredAt(now))
	if err != nil {
		return fmt.Errorf("flush expired tokens: %w", err)
	}
	fmt.Fprintf(e.stdout, "Deleted %d expired refresh tokens.\n", swept.RefreshTokens)
	fmt.Fprintf(e.stdout, "Deleted %d expired revocations.\n", swept.Revocations)
	fmt.Fprintf(e.stdout, "Deleted %d stale failed-login counts.\n", swept.LoginFailures)
	n, err := pruneAudit(ctx, db, as.retention, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted %d audit events older than --audit-retention.\n", n)
	return nil
}
