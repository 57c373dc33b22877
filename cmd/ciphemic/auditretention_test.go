package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
)

// mustAuditStore opens a migrated SQLite store at path.
func mustAuditStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// mustRecordAt records a logout event at each of ats.
func mustRecordAt(t *testing.T, db *store.DB, ats ...time.Time) {
	t.Helper()
	for _, at := range ats {
		if err := db.RecordAuditEvent(context.Background(), ciphemic.AuditEvent{At: at, Kind: ciphemic.AuditLogout}); err != nil {
			t.Fatalf("RecordAuditEvent: %v", err)
		}
	}
}

// auditCount is how many audit events db holds.
func auditCount(t *testing.T, db *store.DB) int64 {
	t.Helper()
	_, n, err := db.ListAuditEvents(context.Background(), ciphemic.AuditFilter{}, ciphemic.ListQuery{Limit: 1})
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	return n
}

// TestPruneAudit: with the clock at now, events older than the retention go and younger
// ones stay; a zero retention keeps everything.
func TestPruneAudit(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		retention time.Duration
		want      int64
	}{
		{defaultAuditRetention, 2}, // 100 and 91 days old
		{365 * day, 0},
		{day, 4},
		{0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.retention.String(), func(t *testing.T) {
			db := mustAuditStore(t, filepath.Join(t.TempDir(), "a.db"))
			mustRecordAt(t, db, now.Add(-100*day), now.Add(-91*day), now.Add(-89*day), now.Add(-2*day), now.Add(-time.Hour))
			n, err := pruneAudit(context.Background(), db, tt.retention, now)
			if err != nil || n != tt.want {
				t.Errorf("pruneAudit(%v) = %d, %v, want %d, nil", tt.retention, n, err, tt.want)
			}
			if left := auditCount(t, db); left != 5-tt.want {
				t.Errorf("after pruneAudit(%v) %d events left, want %d", tt.retention, left, 5-tt.want)
			}
		})
	}
}

// TestAuditPrunerRuns: serve's pruner prunes on its ticks at the time its clock says, and
// stops with its context.
func TestAuditPrunerRuns(t *testing.T) {
	db := mustAuditStore(t, filepath.Join(t.TempDir(), "a.db"))
	base := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&base)
	mustRecordAt(t, db, base.Add(-time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runAuditPruner(ctx, db, 2*time.Hour, time.Millisecond, func() time.Time { return *clock.Load() },
			slog.New(slog.DiscardHandler))
	}()
	time.Sleep(20 * time.Millisecond)
	if n := auditCount(t, db); n != 1 {
		t.Fatalf("pruner deleted an event younger than the retention: %d left, want 1", n)
	}
	later := base.Add(time.Hour + time.Second)
	clock.Store(&later)
	for deadline := time.Now().Add(5 * time.Second); auditCount(t, db) != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("pruner did not delete the event once it passed the retention")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pruner did not stop with its context")
	}
}

// TestFlushExpiredTokensPrunesAudit: flushexpiredtokens deletes the audit events past
// --audit-retention (default 90 days), and refuses a negative retention.
func TestFlushExpiredTokensPrunesAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := mustAuditStore(t, path)
	now := time.Now()
	mustRecordAt(t, db, now.Add(-100*24*time.Hour), now.Add(-3*24*time.Hour), now.Add(-time.Hour))
	db.Close()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "Deleted 1 audit events"},
		{[]string{"--audit-retention", "0"}, "Deleted 0 audit events"},
		{[]string{"--audit-retention", "48h"}, "Deleted 1 audit events"},
	} {
		args := append([]string{"flushexpiredtokens", "--database", "sqlite:" + path}, tt.args...)
		if out, _, err := runCmd(t, nil, "", args...); err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%v = %q, %v, want %q", tt.args, out, err, tt.want)
		}
	}
	// serve also gets a bad --addr, checked after the retention, so that it never listens.
	for _, args := range [][]string{{"flushexpiredtokens"}, {"serve", "--addr", "nope"}} {
		cmd := args[0]
		args = append(args, "--database", "sqlite:"+path)
		_, _, err := runCmd(t, map[string]string{"CIPHEMIC_AUDIT_RETENTION": "-1h"}, "", args...)
		if err == nil || !strings.Contains(err.Error(), "--audit-retention") {
			t.Errorf("%s with a negative retention = %v, want an error naming --audit-retention", cmd, err)
		}
	}
}
