package main

import (
	"context"
	"fmt"
	"time"
)

// runFlushExpiredTokens is `ciphemic flushexpiredtokens`, simplejwt's command of that name:
// expired refresh-token rows (and expired revocations) are deleted; run it from cron.
func runFlushExpiredTokens(ctx context.Context, args []string, e env) error {
	var ss storeSettings
	fs := newFlagSet("flushexpiredtokens")
	ss.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		if isHelp(err) {
			return nil
		}
		return err
	}
	db, err := openStore(ctx, ss)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.FlushExpired(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("flush expired tokens: %w", err)
	}
	fmt.Fprintf(e.stdout, "Deleted %d expired refresh tokens.\n", n)
	return nil
}
