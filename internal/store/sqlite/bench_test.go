package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/storebench"
)

// The refresh-path benchmarks of issue 7 (storebench), on a SQLite file:
//
//	go test -run '^$' -bench 'RotateRows|RotateDuringCleanup' -benchtime 1x ./internal/store/sqlite/
//	go test -run '^$' -bench RotateConcurrent -benchtime 20000x ./internal/store/sqlite/

var backend = storebench.Backend{Open: openBench, InsertRows: 50, AfterSeed: checkpoint}

// openBench opens a migrated store on a fresh file and, for seeding, a pool of one
// connection on it that writes as the store's own write pool does.
func openBench(b *testing.B) (*store.DB, *sql.DB) {
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := Open(path)
	if err != nil {
		b.Fatalf("Open(%q) = %v", path, err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(b.Context()); err != nil {
		b.Fatalf("Migrate() = %v", err)
	}
	raw, err := openPool(path, writeParams, 1)
	if err != nil {
		b.Fatalf("openPool(%q) = %v", path, err)
	}
	b.Cleanup(func() { raw.Close() })
	// The seeding transaction holds a million rows; with SQLite's default 2 MB page cache
	// it would spill to the file and take minutes. The store's own pools keep the default.
	if _, err := raw.ExecContext(b.Context(), `PRAGMA cache_size = -1048576`); err != nil {
		b.Fatalf("PRAGMA cache_size: %v", err)
	}
	return db, raw
}

func BenchmarkRotateRows(b *testing.B) { storebench.RotateRows(b, backend) }

func BenchmarkRotateDuringCleanup(b *testing.B) { storebench.RotateDuringCleanup(b, backend) }

// checkpoint moves the seeded rows from the WAL into the database file, as the writer's
// automatic checkpoints keep doing in a running server; left in a WAL of hundreds of
// megabytes they would slow every read and make the first rotation's commit copy them.
func checkpoint(ctx context.Context, raw *sql.DB) error {
	_, err := raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func BenchmarkRotateConcurrent(b *testing.B) { storebench.RotateConcurrent(b, backend) }
