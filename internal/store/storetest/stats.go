package storetest

import (
	"context"
	"testing"

	"github.com/ciphemic/ciphemic/internal/store"
)

// testPoolStats: Stats names every pool once and reports figures that are live, not
// zero values: a bounded pool, and the connection the queries just used.
func testPoolStats(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	if _, err := db.CountUsers(context.Background()); err != nil {
		t.Fatalf("CountUsers() = %v", err)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	pools := db.Stats()
	seen := map[string]bool{}
	for _, p := range pools {
		switch p.Name {
		case "read", "write", "shared":
		default:
			t.Errorf("Stats() names a pool %q, want read, write or shared", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("Stats() names pool %q twice", p.Name)
		}
		seen[p.Name] = true
		if p.MaxOpenConnections <= 0 || p.OpenConnections < 1 {
			t.Errorf("Stats() pool %s: max open %d, open %d; want a bounded pool with a connection open",
				p.Name, p.MaxOpenConnections, p.OpenConnections)
		}
	}
	if !(len(pools) == 1 && seen["shared"]) && !(len(pools) == 2 && seen["read"] && seen["write"]) {
		t.Errorf("Stats() = %d pools %v, want shared alone or read and write", len(pools), seen)
	}
}
