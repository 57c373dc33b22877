package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/storebench"
)

// The refresh-path benchmarks of issue 7 (storebench), on PostgreSQL
// (CIPHEMIC_TEST_POSTGRES_URL, default DefaultTestURL):
//
//	go test -run '^$' -bench 'RotateRows|RotateDuringCleanup' -benchtime 1x ./internal/store/postgres/

var backend = storebench.Backend{Open: openBench, InsertRows: 500, AfterSeed: vacuumAnalyze}

// openBench opens a migrated store in a fresh schema and a pool on the same schema.
func openBench(b *testing.B) (*store.DB, *sql.DB) {
	db, dsn := openTest(b)
	if err := db.Migrate(b.Context()); err != nil {
		b.Fatalf("Migrate() = %v", err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatalf("sql.Open(pgx) = %v", err)
	}
	b.Cleanup(func() { raw.Close() })
	return db, raw
}

// vacuumAnalyze does what autovacuum does after a bulk load: statistics for the planner,
// and the visibility map. The test server may run without autovacuum.
func vacuumAnalyze(ctx context.Context, raw *sql.DB) error {
	_, err := raw.ExecContext(ctx, `VACUUM ANALYZE users, refresh_tokens`)
	return err
}

func BenchmarkRotateRows(b *testing.B) { storebench.RotateRows(b, backend) }

func BenchmarkRotateDuringCleanup(b *testing.B) { storebench.RotateDuringCleanup(b, backend) }

func BenchmarkRotateConcurrent(b *testing.B) { storebench.RotateConcurrent(b, backend) }
