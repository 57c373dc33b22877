package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// errUsage marks errors in the command line or settings; main exits 2 for them.
var errUsage = errors.New("usage")

// usageError is a bad command line or setting, reported in one line.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// env is what a subcommand receives from the process, passed explicitly so that tests
// run subcommands in-process with their own environment and streams.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

func commands() []command {
	return []command{
		{"serve", "migrate the store if needed and serve the API", runServe},
		{"migrate", "apply schema migrations and exit", runMigrate},
		{"createuser", "create a user (password from standard input or a prompt)", runCreateUser},
		{"changepassword", "set a user's password and end their sessions: changepassword --username U [--password-stdin]", runChangePassword},
		{"flushexpiredtokens", "delete expired refresh-token and revocation rows and stale failed-login counts", runFlushExpiredTokens},
		{"keys", "manage signing keys: keys generate --algorithm ALG --out FILE | keys rotate --signing-key-file FILE [--algorithm ALG]", runKeys},
		{"version", "print the version and the Go release it was built with", runVersion},
		{"import-users", "import users from Django: import-users --django FILE (dumpdata auth.group auth.user) [--renumber] [--role-from-group NAME=ROLE]", runImportUsers},
		{"import-tokens", "import simplejwt's refresh-token records and record the cut-over: import-tokens --django FILE (dumpdata token_blacklist) --signing-key-file FILE", runImportTokens},
	}
}

// run is the whole program: main only adds the process's signals, arguments and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		fmt.Fprint(stdout, usageText())
		if len(args) < 2 {
			return usagef("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[1] {
			// -h printed the flags; asking for help is not a failure.
			if err := c.run(ctx, args[2:], e); !isHelp(err) {
				return err
			}
			return nil
		}
	}
	return usagef("unknown command %q (try 'ciphemic help')", args[1])
}

func usageText() string {
	var b strings.Builder
	b.WriteString("Usage: ciphemic <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-20s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'ciphemic <command> -h' for its flags. Every flag can also be set as CIPHEMIC_<FLAG>\n(e.g. --access-token-lifetime as CIPHEMIC_ACCESS_TOKEN_LIFETIME); flags win.\n")
	return b.String()
}
