package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/postgres"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
	"github.com/ciphemic/ciphemic/internal/token"
)

// openStore opens and migrates the store the settings name, creating it when it is
// missing: what serve does. The database URL may hold a password, so errors name the
// kind of store, never the URL.
func openStore(ctx context.Context, s storeSettings, opts ...store.Option) (*store.DB, error) {
	db, kind, err := openDB(ctx, s, opts...)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close() // the migration's error is the one to report
		return nil, fmt.Errorf("migrate %s store: %w", kind, err)
	}
	return db, nil
}

// openExisting is openStore for the commands that must not create a database: a typo in
// --database, or a command run from another directory, would otherwise make a new, empty
// one and report success on it (an admin created nowhere, 0 tokens flushed).
func openExisting(ctx context.Context, s storeSettings, opts ...store.Option) (*store.DB, error) {
	kind, target, err := s.kind()
	if err != nil {
		return nil, err
	}
	if kind == "sqlite" {
		// An empty file is no database either, and SQLite would write its header into it.
		if info, err := os.Stat(target); err != nil || info.Size() == 0 {
			return nil, invalid("database", "no database at %s (create it with 'ciphemic migrate --database sqlite:%s')", target, target)
		}
	}
	db, kind, err := openDB(ctx, s, opts...)
	if err != nil {
		return nil, err
	}
	has, err := db.HasSchema(ctx)
	if err == nil && !has {
		err = invalid("database", "the %s database holds no ciphemic schema (create it with 'ciphemic migrate')", kind)
	}
	if err == nil {
		err = db.Migrate(ctx)
	}
	if err != nil {
		_ = db.Close() // the check's error is the one to report
		return nil, err
	}
	return db, nil
}

// openDB opens the store without touching its schema.
func openDB(ctx context.Context, s storeSettings, opts ...store.Option) (*store.DB, string, error) {
	kind, target, err := s.kind()
	if err != nil {
		return nil, "", err
	}
	var db *store.DB
	switch kind {
	case "postgres":
		db, err = postgres.Open(ctx, target, opts...)
	default:
		if err = sqliteDirExists(target); err != nil {
			return nil, "", err
		}
		db, err = sqlite.Open(target, opts...)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open %s store: %w", kind, err)
	}
	return db, kind, nil
}

// sqliteDirExists reports a missing directory of an SQLite path as a --database error:
// SQLite would say only "unable to open database file", and the key generated beside it
// would fail first with the name of a temporary file.
func sqliteDirExists(path string) error {
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return invalid("database", "directory %s of sqlite:%s does not exist", dir, path)
	}
	return nil
}

// loadSigningKeys reads --signing-key-file and its ring of previous keys, bounded by r,
// or makes and reuses a key beside the SQLite file. With PostgreSQL there is no such
// place, and instances must share one key, so the file is required. It returns the file
// it read, for the reloader to watch.
func loadSigningKeys(ts tokenSettings, ss storeSettings, r token.Retirement, log *slog.Logger) (*token.KeySet, string, error) {
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
				log.Info("generated a new signing key (mode 0600)", "algorithm", ts.algorithm, "file", file)
			}
		}
	}
	if err := checkKeyFileMode(file); err != nil {
		return nil, "", err
	}
	keys, err := token.LoadKeySet(file, ts.algorithm, time.Now(), r)
	if err != nil {
		return nil, "", invalid("signing-key-file", "%v", err)
	}
	return keys, file, nil
}
