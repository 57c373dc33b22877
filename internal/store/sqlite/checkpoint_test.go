package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointsRunOffTheWriter writes pages to the log through a connection whose own
// automatic checkpoint is far away, and expects them in the database file soon after,
// with no further commit: only the store's own checkpointer can have moved them.
func TestCheckpointsRunOffTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ciphemic.db")
	db := mustOpen(t, path)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	raw := mustRaw(t, path, "_busy_timeout=5000&_pragma=wal_autocheckpoint(100000)")
	const pages = 300
	if _, err := raw.Exec(`CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	for range pages {
		if _, err := raw.Exec(`INSERT INTO filler VALUES (zeroblob(4000))`); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() >= pages*4096 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes 5 s after %d pages were committed: the log was not checkpointed", fi.Size(), pages)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
