package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/username"
)

// changePasswordSettings are the flags of `ciphemic changepassword`.
type changePasswordSettings struct {
	store         storeSettings
	username      string
	passwordStdin bool
	// accessLifetime and leeway are the servers': the revocation of the user's tokens must
	// be remembered until every access token issued before it has expired.
	accessLifetime, leeway time.Duration
	passwords              passwordSettings
}

// runChangePassword is `ciphemic changepassword`, Django's manage.py changepassword: for
// an operator whose admin forgot their password, or who must lock a stolen account. As
// POST /api/me/password/ does, it ends every session of the user in the same transaction.
func runChangePassword(ctx context.Context, args []string, e env) error {
	var s changePasswordSettings
	fs := newFlagSet("changepassword")
	s.store.register(fs)
	fs.StringVar(&s.username, "username", "", "user whose password to set (required)")
	fs.BoolVar(&s.passwordStdin, "password-stdin", false, "read the new password from the first line of standard input")
	fs.DurationVar(&s.accessLifetime, "access-token-lifetime", 5*time.Minute, "access token lifetime of the servers: the user's access tokens issued before the change are refused until they have expired")
	fs.DurationVar(&s.leeway, "leeway", 0, "leeway of the servers")
	s.passwords.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if err := s.passwords.validate(); err != nil {
		return err
	}
	name := username.Normalize(strings.TrimSpace(s.username))
	switch {
	case name == "":
		return invalid("username", "required")
	case s.accessLifetime <= 0:
		return invalid("access-token-lifetime", "must be positive")
	case s.leeway < 0:
		return invalid("leeway", "must not be negative")
	}
	db, err := openExisting(ctx, s.store)
	if err != nil {
		return err
	}
	defer db.Close()
	user, err := db.UserByUsername(ctx, name)
	if ciphemic.ErrorCode(err) == ciphemic.CodeNotFound {
		return invalid("username", "no user %q", name)
	}
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	pw, err := readPassword(s.passwordStdin, e)
	if err != nil {
		return err
	}
	// Django's changepassword has no bypass: the validators always apply here.
	if err := checkNewPassword(s.passwords.policy(), pw, user, false, e); err != nil {
		return err
	}
	hash, err := password.NewHasher(password.DefaultParams).Hash(pw)
	if err != nil {
		return err
	}
	at := time.Now()
	if err := db.ChangePassword(ctx, user.ID, hash, at, at.Add(s.accessLifetime+s.leeway+time.Second)); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	fmt.Fprintf(e.stdout, "Changed the password of %s and ended every session of the user.\n", user.Username)
	return nil
}
