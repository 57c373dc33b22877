package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ciphemic/ciphemic/internal/store"
)

// DefaultTestURL is the server OpenTest uses when CIPHEMIC_TEST_POSTGRES_URL is unset.
const DefaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// OpenTest is for tests only. It returns a store, not yet migrated, in a fresh schema of
// the PostgreSQL server named by CIPHEMIC_TEST_POSTGRES_URL (default DefaultTestURL), and
// drops the schema and closes the store when t ends. When no server answers it skips t,
// or fails it when CIPHEMIC_REQUIRE_POSTGRES=1, so CI cannot pass by skipping.
func OpenTest(t *testing.T) *store.DB {
	t.Helper()
	db, _ := openTest(t)
	return db
}

// openTest is OpenTest that also returns the DSN of the fresh schema, so that a test can
// open a second store on it.
func openTest(t testing.TB) (*store.DB, string) {
	t.Helper()
	dsn := os.Getenv("CIPHEMIC_TEST_POSTGRES_URL")
	if dsn == "" {
		dsn = DefaultTestURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin := mustReach(ctx, t, dsn)
	schema := "ciphemic_test_" + randomHex(t)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close() // the failure to report is the schema's
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	dsn = withSearchPath(dsn, schema)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close the test store: %v", err)
		}
	})
	return db, dsn
}

// mustReach returns a connection pool to dsn, or skips (or fails) t when the server
// cannot be reached.
func mustReach(ctx context.Context, t testing.TB, dsn string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("CIPHEMIC_TEST_POSTGRES_URL: %v", err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err == nil {
		return admin
	}
	_ = admin.Close() // the failure to report is the ping's
	// Name the server without the DSN, which may hold a password.
	msg := "PostgreSQL at %s:%d (database %q) is unreachable: %v; set CIPHEMIC_TEST_POSTGRES_URL to test against PostgreSQL"
	if os.Getenv("CIPHEMIC_REQUIRE_POSTGRES") == "1" {
		t.Fatalf(msg+" (required by CIPHEMIC_REQUIRE_POSTGRES=1)", cfg.Host, cfg.Port, cfg.Database, err)
	}
	t.Skipf(msg, cfg.Host, cfg.Port, cfg.Database, err)
	return nil
}

// withSearchPath returns dsn with search_path set to schema, which pgx sends as a
// run-time parameter on every connection it opens.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	return hex.EncodeToString(b)
}

// OpenTestURL is for end-to-end tests that open the store themselves (through the
// command line): it returns the URL of a fresh, empty schema, dropped when t ends, with the
// same skip rules as OpenTest.
func OpenTestURL(t *testing.T) string {
	t.Helper()
	_, dsn := openTest(t)
	return dsn
}
