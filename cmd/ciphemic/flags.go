package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses args into fs, then fills every flag not given on the command line from
// CIPHEMIC_<FLAG> (dashes as underscores, upper case), so flags win over the environment.
// A bad value is reported in one line naming the flag or variable.
func parseFlags(fs *flag.FlagSet, args []string, e env) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			return flag.ErrHelp
		}
		return usagef("%s", strings.Replace(err.Error(), " -", " --", 1))
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		if v, ok := lookupEnv(e, name); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = usagef("invalid %s: %v", name, setErr)
			}
		}
	})
	return err
}

// envName is the environment variable of a flag: --access-token-lifetime ⇔
// CIPHEMIC_ACCESS_TOKEN_LIFETIME.
func envName(flagName string) string {
	return "CIPHEMIC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// lookupEnv treats an empty variable as unset, as shells commonly export empty values.
func lookupEnv(e env, name string) (string, bool) {
	v := e.getenv(name)
	return v, v != ""
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	return flag.NewFlagSet("ciphemic "+name, flag.ContinueOnError)
}

// isHelp reports whether parseFlags answered -h, which is not a failure.
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// invalid reports a bad setting in the one-line shape every setting error has.
func invalid(flagName string, format string, args ...any) error {
	return usagef("invalid --%s: %s", flagName, fmt.Sprintf(format, args...))
}
