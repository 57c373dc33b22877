package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/username"
)

// createUserSettings are the flags of `ciphemic createuser`.
type createUserSettings struct {
	store         storeSettings
	username      string
	email         string
	role          string
	passwordStdin bool
	passwords     passwordSettings
	// skipValidation creates the user with a password the validators refuse, as
	// createsuperuser's "Bypass password validation?" does (test fixtures).
	skipValidation bool
}

// runCreateUser is `ciphemic createuser`. The password never comes from a flag (it would
// sit in the shell history and the process list): it is read from standard input with
// --password-stdin, or typed at a prompt without echo.
func runCreateUser(ctx context.Context, args []string, e env) error {
	var s createUserSettings
	fs := newFlagSet("createuser")
	s.store.register(fs)
	fs.StringVar(&s.username, "username", "", "username (required)")
	fs.StringVar(&s.email, "email", "", "email address")
	fs.StringVar(&s.role, "role", "student", "admin, teacher or student")
	fs.BoolVar(&s.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.BoolVar(&s.skipValidation, "skip-password-validation", false, "create the user even when the password fails Django's validators (test fixtures only), with a warning")
	s.passwords.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if err := s.passwords.validate(); err != nil {
		return err
	}
	user, err := s.user()
	if err != nil {
		return err
	}
	// The database first: a wrong --database is found before a password is typed.
	db, err := openExisting(ctx, s.store)
	if err != nil {
		return err
	}
	defer db.Close()
	pw, err := readPassword(s.passwordStdin, e)
	if err != nil {
		return err
	}
	if err := checkNewPassword(s.passwords.policy(), pw, user, s.skipValidation, e); err != nil {
		return err
	}
	if user.PasswordHash, err = password.NewHasher(password.DefaultParams).Hash(pw); err != nil {
		return err
	}
	created, err := db.CreateUser(ctx, user)
	if err != nil {
		return fmt.Errorf("create user: %s", ciphemic.ErrorMessage(err))
	}
	fmt.Fprintf(e.stdout, "Created user %s (id %d, role %s).\n", created.Username, created.ID, created.Role)
	return nil
}

// user validates the flags into the user to create. The username is stored in NFKC, as
// Django's normalize_username and ciphemic's API leave it, so that a look-alike of a
// taken name ("ａdmin") is refused as taken; its length is that of the stored name.
func (s createUserSettings) user() (ciphemic.User, error) {
	name := username.Normalize(strings.TrimSpace(s.username))
	if name == "" {
		return ciphemic.User{}, invalid("username", "required")
	}
	if utf8.RuneCountInString(name) > 150 {
		return ciphemic.User{}, invalid("username", "at most 150 characters")
	}
	role, err := ciphemic.ParseRole(s.role)
	if err != nil {
		return ciphemic.User{}, invalid("role", "%q is not admin, teacher or student", s.role)
	}
	return ciphemic.User{Username: name, Email: strings.TrimSpace(s.email), Role: role, IsActive: true}, nil
}

// readPassword reads the first line of standard input, or prompts twice without echo when
// standard input is a terminal.
func readPassword(fromStdin bool, e env) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("password: standard input held no password")
		}
		return pw, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("no terminal to prompt for a password: use --password-stdin")
	}
	first, err := prompt(f, e, "Password: ")
	if err != nil {
		return "", err
	}
	second, err := prompt(f, e, "Password (again): ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", usagef("password: the two passwords differ")
	}
	return first, nil
}

func prompt(f *os.File, e env, label string) (string, error) {
	fmt.Fprint(e.stderr, label)
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(pw), nil
}

// checkNewPassword applies the validators to the password of user, writing each of
// Django's messages on its own line of standard error as manage.py does. A refused
// password is an error unless skip, which only warns.
func checkNewPassword(policy ciphemic.PasswordPolicy, pw string, user ciphemic.User, skip bool, e env) error {
	msgs := policy.Validate(pw, user)
	if len(msgs) == 0 {
		return nil
	}
	for _, msg := range msgs {
		fmt.Fprintln(e.stderr, msg)
	}
	if skip {
		fmt.Fprintln(e.stderr, "Warning: --skip-password-validation: the password fails the validators above; creating the user anyway.")
		return nil
	}
	return usagef("password: %s (--skip-password-validation bypasses the validators)", strings.Join(msgs, " "))
}
