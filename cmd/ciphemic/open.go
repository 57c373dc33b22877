package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/postgres"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
	"github.com/ciphemic/ciphemic/internal/token"
)

// openStore opens and migrates the store the settings name. The database URL may hold a
// password, so errors name the kind of store, never the URL.
func openStore(ctx context.Context, s storeSettings, opts ...store.Option) (*store.DB, error) {
	kind, target, err := s.kind()
	if err != nil {
		return nil, err
	}
	var db *store.DB
	switch kind {
	case "postgres":
		db, err = postgres.Open(ctx, target, opts...)
	default:
		db, err = sqlite.Open(target, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", kind, err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close() // the migration's error is the one to report
		return nil, fmt.Errorf("migrate %s store: %w", kind, err)
	}
	return db, nil
}

// loadSigningKeys reads --signing-key-file and its ring of previous keys, bounded by r,
// or makes and reuses a key beside the SQLite file. With PostgreSQL there is no such
// place, and instances must share one key, so the file is required. It returns the file
// it read, for the reloader to watch.
func loadSigningKeys(ts tokenSettings, ss storeSettings, r token.Retirement, e env) (*token.KeySet, string, error) {
	file := ts.signingKeyFile
	if file == "" {
		kind, path, err := ss.kind()
		if err != nil {
			return nil, "", err
		}
		if kind != "sqlite" {
			return nil, "", invalid("signing-key-file", "required with a PostgreSQL database, so that every instance signs with the same key")
		}
		file = keyFileFor(path, ts.algorithm)
		// Only a missing file is created: a rotated one may hold a key of another algorithm.
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			_, created, err := token.LoadOrCreateKeyFile(file, ts.algorithm)
			if err != nil {
				return nil, "", invalid("signing-key-file", "generated key %s: %v", file, err)
			}
			if created {
				fmt.Fprintf(e.stderr, "ciphemic: generated a new %s signing key in %s (mode 0600)\n", ts.algorithm, file)
			}
		}
	}
	keys, err := token.LoadKeySet(file, ts.algorithm, time.Now(), r)
	if err != nil {
		return nil, "", invalid("signing-key-file", "%v", err)
	}
	return keys, file, nil
}
