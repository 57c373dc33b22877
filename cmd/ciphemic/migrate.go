package main

import (
	"context"
	"fmt"
)

// runMigrate is `ciphemic migrate`: apply schema migrations and exit.
func runMigrate(ctx context.Context, args []string, e env) error {
	var ss storeSettings
	fs := newFlagSet("migrate")
	ss.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	db, err := openStore(ctx, ss)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(e.stdout, "Migrations applied.")
	return nil
}
