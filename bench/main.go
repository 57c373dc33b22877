// Command bench measures ciphemic under load against a bare net/http handler and the
// article's Django system, side by side in one run, and prints the ratios of issue 7's
// goals. Run it from the repository:
//
//	go run ./bench [flags]
//
// It builds ./cmd/ciphemic, starts every server as a separate process on 127.0.0.1 and
// stops them all at the end, on error and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if addr := os.Getenv(bareAddrEnv); addr != "" {
		err = serveBare(ctx, addr, os.Getenv(bareBodyEnv))
	} else {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "bench: interrupted; the servers it started are stopped")
		os.Exit(130)
	}
	if err != nil {
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// options are the command line's settings.
type options struct {
	duration    time.Duration
	rounds      int
	conns       int
	chains      int
	loginConns  int
	rssConns    int
	stores      []string
	postgresURL string
	algorithms  []string
	django      string
	djangoRef   string
	scenarios   []string
}

// maxMeasured bounds rounds × duration: every scenario logs in once and reuses the access
// token over its rounds, and access tokens live 5 minutes.
const maxMeasured = 4 * time.Minute

var algorithms = []string{"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	var stores, algs, scenarioList string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./bench [flags]\n\n"+
			"Measures ciphemic under load beside a bare handler and the Django reference, and prints\n"+
			"req/s, p50, p99 and errors of each scenario and the ratios of issue 7's goals.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.DurationVar(&o.duration, "duration", 6*time.Second, "length of one round")
	fs.IntVar(&o.rounds, "rounds", 2, "rounds of each scenario on each server; the best is reported")
	fs.IntVar(&o.conns, "conns", 16, "connections for me, verify and write")
	fs.IntVar(&o.chains, "chains", 8, "refresh chains, each on its own connection")
	fs.IntVar(&o.loginConns, "login-conns", runtime.NumCPU(), "connections for login")
	fs.IntVar(&o.rssConns, "rss-conns", 64, "connections of the peak-memory round (me, then refresh)")
	fs.StringVar(&stores, "store", "sqlite", "ciphemic's store: sqlite, postgres or both")
	fs.StringVar(&o.postgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/postgres",
		"PostgreSQL server on which -store postgres creates (and drops) a scratch database")
	fs.StringVar(&algs, "algorithm", "HS256,EdDSA", "comma-separated signing algorithms: "+strings.Join(algorithms, ", "))
	fs.StringVar(&o.django, "django", "auto", "the Django reference: auto (when its Debian packages are installed) or off")
	fs.StringVar(&o.djangoRef, "django-ref", "testdata/django-ref", "the Django reference's folder; relative to the repository root")
	fs.StringVar(&scenarioList, "scenarios", strings.Join(scenarioNames, ","), "comma-separated subset of "+strings.Join(scenarioNames, ", "))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage // the flag package has printed what is wrong, and the usage
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	o.stores = map[string][]string{"sqlite": {"sqlite"}, "postgres": {"postgres"}, "both": {"sqlite", "postgres"}}[stores]
	o.algorithms = splitList(algs)
	o.scenarios = splitList(scenarioList)
	return o, o.check(stores)
}

// check reports the first setting that cannot work, naming it.
func (o options) check(stores string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
	}
	switch {
	case o.duration <= 0:
		return bad("-duration %s: must be positive", o.duration)
	case o.rounds < 1 || o.conns < 1 || o.chains < 1 || o.loginConns < 1 || o.rssConns < 1:
		return bad("-rounds, -conns, -chains, -login-conns and -rss-conns must be at least 1")
	case time.Duration(o.rounds)*o.duration > maxMeasured:
		return bad("-rounds × -duration is %s: at most %s, since access tokens live 5 minutes",
			time.Duration(o.rounds)*o.duration, maxMeasured)
	case o.stores == nil:
		return bad("-store %q: want sqlite, postgres or both", stores)
	case slices.Contains(o.stores, "postgres") && !strings.HasPrefix(o.postgresURL, "postgres://") &&
		!strings.HasPrefix(o.postgresURL, "postgresql://"):
		return bad("-postgres-url %q: want postgres://user@host:port/database", o.postgresURL)
	case o.django != "auto" && o.django != "off":
		return bad("-django %q: want auto or off", o.django)
	}
	if err := within("-algorithm", o.algorithms, algorithms); err != nil {
		return bad("%v", err)
	}
	if err := within("-scenarios", o.scenarios, scenarioNames); err != nil {
		return bad("%v", err)
	}
	return nil
}

func within(flagName string, list, allowed []string) error {
	if len(list) == 0 {
		return fmt.Errorf("%s: empty; choose from %s", flagName, strings.Join(allowed, ", "))
	}
	for _, v := range list {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%s: %q is not one of %s", flagName, v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (o options) wants(scenario string) bool { return slices.Contains(o.scenarios, scenario) }
