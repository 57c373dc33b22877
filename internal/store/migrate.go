package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// migration is one numbered SQL file.
type migration struct {
	version int64
	name    string
	body    string
}

// Migrate applies, in order, every embedded migration not yet recorded in
// schema_migrations, each in its own transaction. Running it again does nothing.
func (db *DB) Migrate(ctx context.Context) error {
	_, err := db.MigrateApplied(ctx)
	return err
}

// MigrateApplied is Migrate that also returns the names of the migrations it applied
// ("0001_init.sql"), none when the schema was current, so that an operator running
// `ciphemic migrate` learns what changed.
func (db *DB) MigrateApplied(ctx context.Context) ([]string, error) {
	ms, err := readMigrations(db.dialect.Migrations)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, m := range ms {
		var done bool
		err := db.update(ctx, "migrate "+m.name, func(tx *sql.Tx) (err error) {
			done, err = db.migrateTx(ctx, tx, m)
			return err
		})
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.name)
		}
	}
	return applied, db.prepareWrites(ctx)
}

// HasSchema reports whether a migration was ever applied to the database: whether it is
// a ciphemic database at all. It changes nothing (the table it may create to ask is
// rolled back), so that commands which must not create a database can refuse an empty one.
func (db *DB) HasSchema(ctx context.Context) (bool, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, db.fail("has schema", err)
	}
	defer tx.Rollback() // never commit: asking must not create the table
	if _, err := tx.ExecContext(ctx, createSchemaMigrations); err != nil {
		return false, db.fail("has schema", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return false, db.fail("has schema", err)
	}
	return n > 0, nil
}

// createSchemaMigrations makes the table that records applied migrations.
const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`

// migrateTx applies m unless schema_migrations records it, and reports whether it did.
func (db *DB) migrateTx(ctx context.Context, tx *sql.Tx, m migration) (bool, error) {
	if db.dialect.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, db.dialect.MigrationLock); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, createSchemaMigrations); err != nil {
		return false, err
	}
	var n int
	err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n)
	if err != nil || n > 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, m.body); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.version, micros(db.clock()))
	return err == nil, err
}

// readMigrations returns the *.sql files at the root of fsys, ordered by the number
// that starts each name ("0001_init.sql" is version 1).
func readMigrations(fsys fs.FS) ([]migration, error) {
	if fsys == nil {
		return nil, fmt.Errorf("no migrations")
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	ms := make([]migration, 0, len(names))
	seen := make(map[int64]string)
	for _, name := range names {
		v, err := migrationVersion(name)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, body: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

func migrationVersion(name string) (int64, error) {
	num, _, ok := strings.Cut(name, "_")
	if !ok {
		return 0, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("migration %s: name must start with a positive number", name)
	}
	return v, nil
}
