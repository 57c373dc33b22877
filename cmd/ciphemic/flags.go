package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// parseFlags parses args into fs, then fills every flag not given on the command line from
// CIPHEMIC_<FLAG> (dashes as underscores, upper case), so flags win over the environment.
// A bad value is reported in one line naming the flag or variable.
func parseFlags(fs *flag.FlagSet, args []string, e env) error {
	fs.SetOutput(io.Discard)
	var bad error
	restore := watchValues(fs, &bad)
	err := fs.Parse(args)
	restore()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stdout, "Usage: %s [flags]\n", fs.Name())
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			return flag.ErrHelp
		}
		if bad != nil {
			return bad
		}
		return usagef("%s", strings.Replace(err.Error(), " -", " --", 1))
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return fillFromEnv(fs, e)
}

// fillFromEnv sets every flag not given on the command line from its CIPHEMIC_* variable.
func fillFromEnv(fs *flag.FlagSet, e env) error {
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
				err = badValue(name, f.Value, v, setErr)
			}
		}
	})
	return err
}

// watchValues makes every flag of fs record in *bad the first value it refuses, as a
// badValue naming the flag, until restore is called: the flag package's own message
// ("invalid value "banana" for flag -access-token-lifetime: parse error") says neither
// which form was expected nor, for durations, anything but "parse error". The flags are
// restored afterwards because PrintDefaults names a flag's type from its Value's type.
func watchValues(fs *flag.FlagSet, bad *error) (restore func()) {
	orig := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		orig[f] = f.Value
		f.Value = watchedValue{Value: f.Value, name: "--" + f.Name, bad: bad}
	})
	return func() {
		for f, v := range orig {
			f.Value = v
		}
	}
}

// watchedValue is a flag.Value that records the value it refused.
type watchedValue struct {
	flag.Value
	name string
	bad  *error
}

func (v watchedValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.bad == nil {
		*v.bad = badValue(v.name, v.Value, s, err)
	}
	return err
}

// IsBoolFlag keeps --flag without a value working for the boolean flags it wraps.
func (v watchedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// badValue is the one line for a value a flag refused: the flag or variable the user set,
// the value, and the form expected (--access-token-lifetime: "banana" is not a duration
// (e.g. 5m, 1h30m)).
func badValue(setting string, v flag.Value, value string, err error) error {
	return usagef("%s: %q %s", setting, value, expectedForm(v, err))
}

func expectedForm(v flag.Value, err error) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return "is not valid: " + err.Error()
	}
	switch g.Get().(type) {
	case time.Duration:
		return "is not a duration (e.g. 5m, 1h30m)"
	case bool:
		return "is not true or false"
	case int, int64, uint, uint64:
		if err.Error() == "value out of range" {
			return "is out of range"
		}
		return "is not a whole number"
	}
	return "is not valid: " + err.Error()
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
