package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"
)

// defaultAuditRetention keeps the audit trail for 90 days.
const defaultAuditRetention = 90 * 24 * time.Hour

// auditPruneInterval is how often serve deletes the audit events past the retention.
const auditPruneInterval = time.Hour

// auditSettings are the audit-trail settings of serve and flushexpiredtokens.
type auditSettings struct {
	retention time.Duration
}

func (s *auditSettings) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.retention, "audit-retention", defaultAuditRetention,
		"how long audit events (GET /api/audit/) are kept; older ones are deleted hourly by serve and by flushexpiredtokens (0: forever)")
}

func (s *auditSettings) validate() error {
	if s.retention < 0 {
		return invalid("audit-retention", "must not be negative (0 keeps events forever)")
	}
	return nil
}

// auditPruneStore is what pruning needs of the store.
type auditPruneStore interface {
	PruneAuditEvents(ctx context.Context, before time.Time) (int64, error)
}

// pruneAudit deletes the audit events older than retention at now, and returns how many
// it deleted; a zero retention keeps every event.
func pruneAudit(ctx context.Context, db auditPruneStore, retention time.Duration, now time.Time) (int64, error) {
	if retention <= 0 {
		return 0, nil
	}
	n, err := db.PruneAuditEvents(ctx, now.Add(-retention))
	if err != nil {
		return 0, fmt.Errorf("prune audit events: %w", err)
	}
	return n, nil
}

// runAuditPruner prunes the audit trail at once and then every interval, at the time now
// says, until ctx is done. A failure is logged and retried at the next tick: the events
// only stay a little longer.
func runAuditPruner(ctx context.Context, db auditPruneStore, retention, interval time.Duration, now func() time.Time, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := pruneAudit(ctx, db, retention, now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("audit prune failed", "error", err.Error())
		case n > 0:
			log.Info("audit events pruned", "deleted", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
