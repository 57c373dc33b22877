package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/store"
)

// adminPasswordSuffix names the file beside an SQLite database that holds the first
// admin's password when there is no terminal to show it on.
const adminPasswordSuffix = ".admin-password"

// ensureAdmin creates user admin with a random password on an empty store. The password
// is shown on standard output only when that is a terminal: under systemd or a container
// runtime standard output is a log, kept and read by many. Otherwise it goes to a file of
// mode 0600 (--initial-admin-password-file, or beside the SQLite file) whose path is logged.
func ensureAdmin(ctx context.Context, db *store.DB, hasher *password.Hasher, s serveSettings, log *slog.Logger, e env) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	file, err := adminPasswordFile(s, e)
	if err != nil {
		return err
	}
	pw := rand.Text()
	hash, err := hasher.Hash(pw)
	if err != nil {
		return err
	}
	if file != "" {
		// Written before the admin exists: an admin whose password went nowhere is worse
		// than a start-up that stops.
		if err := writeAdminPassword(file, pw); err != nil {
			return err
		}
	}
	_, err = db.CreateUser(ctx, ciphemic.User{Username: "admin", PasswordHash: hash, Role: ciphemic.RoleAdmin, IsActive: true})
	if err != nil && file != "" {
		_ = os.Remove(file) // the password of no admin; the create's error is the one to report
	}
	if ciphemic.ErrorCode(err) == ciphemic.CodeConflict {
		return nil // another instance created it first
	}
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if file == "" {
		fmt.Fprintf(e.stdout, "Created user admin with password %s (shown once; change it with POST /api/me/password/)\n", pw)
		return nil
	}
	log.Warn("created user admin: read its password from the file, then remove the file", "password_file", file)
	return nil
}

// adminPasswordFile is where the first admin's password goes: "" for the terminal.
func adminPasswordFile(s serveSettings, e env) (string, error) {
	if s.initialAdminPasswordFile != "" {
		return s.initialAdminPasswordFile, nil
	}
	if f, ok := e.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "", nil
	}
	kind, path, err := s.store.kind()
	if err != nil {
		return "", err
	}
	if kind != "sqlite" {
		return "", invalid("initial-admin-password-file", "required to create the first admin on PostgreSQL when standard output is not a terminal (it would be a log)")
	}
	return path + adminPasswordSuffix, nil
}

// writeAdminPassword creates file with mode 0600, never over an existing one: an old
// password file may be one the operator has not read yet.
func writeAdminPassword(file, pw string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator's path
	if errors.Is(err, fs.ErrExist) {
		return invalid("initial-admin-password-file", "%s already exists: remove it (it holds the password of an admin of an earlier database) or name another file", file)
	}
	if err != nil {
		return invalid("initial-admin-password-file", "create %s: %v", file, unwrapPath(err))
	}
	_, err = fmt.Fprintln(f, pw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file) // the write's error is the one to report
		return fmt.Errorf("write %s: %w", file, unwrapPath(err))
	}
	return nil
}

// unwrapPath takes the system error out of a path error, whose path the message names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
