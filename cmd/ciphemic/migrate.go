package main

import (
	"context"
	"fmt"
	"strings"
)

// runMigrate is `ciphemic migrate`: apply schema migrations and exit. It names what it
// applied, so that an operator upgrading sees whether the schema changed.
func runMigrate(ctx context.Context, args []string, e env) error {
	var ss storeSettings
	fs := newFlagSet("migrate")
	ss.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	db, kind, err := openDB(ctx, ss)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.MigrateApplied(ctx)
	if len(applied) > 0 {
		fmt.Fprintf(e.stdout, "Applied %d migration(s): %s.\n", len(applied), strings.Join(applied, ", "))
	}
	if err != nil {
		return fmt.Errorf("migrate %s store: %w", kind, err)
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "The schema was current: no migrations to apply.")
	}
	return nil
}
