package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/postgres"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
	"github.com/ciphemic/ciphemic/internal/token"
)

// openStore opens and migrates the store the settings name. The database URL may hold a
// password, so errors name the kind of store, never the URL.
func openStore(ctx context.Context, s storeSettings) (*store.DB, error) {
	kind, target, err := s.kind()
	if err != nil {
		return nil, err
	}
	var db *store.DB
	switch kind {
	case "postgres":
		db, err = postgres.Open(ctx, target)
	default:
		db, err = sqlite.Open(target)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", kind, err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s store: %w", kind, err)
	}
	return db, nil
}

// loadSigningKeys reads --signing-key-file, or makes and reuses a key beside the SQLite
// file. With PostgreSQL there is no such place, and instances must share one key, so the
// file is required.
func loadSigningKeys(ts tokenSettings, ss storeSettings, e env) (*token.KeySet, error) {
	var key *token.Key
	if ts.signingKeyFile != "" {
		data, err := os.ReadFile(ts.signingKeyFile)
		if err != nil {
			return nil, invalid("signing-key-file", "cannot read it: %v", err)
		}
		if key, err = token.ParseKey(ts.algorithm, data); err != nil {
			return nil, invalid("signing-key-file", "%v", err)
		}
	} else {
		kind, path, err := ss.kind()
		if err != nil {
			return nil, err
		}
		if kind != "sqlite" {
			return nil, invalid("signing-key-file", "required with a PostgreSQL database, so that every instance signs with the same key")
		}
		file := keyFileFor(path, ts.algorithm)
		var created bool
		if key, created, err = token.LoadOrCreateKeyFile(file, ts.algorithm); err != nil {
			return nil, invalid("signing-key-file", "generated key %s: %v", file, err)
		}
		if created {
			fmt.Fprintf(e.stderr, "ciphemic: generated a new %s signing key in %s (mode 0600)\n", ts.algorithm, file)
		}
	}
	return token.NewKeySet(key)
}
