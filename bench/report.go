package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// config is what one configuration measured: a table of rows, and for ciphemic the login
// bound and the peak memory.
type config struct {
	title    string
	store    string // sqlite or postgres
	rows     []row
	bound    loginBound
	wholeRun float64 // MiB: the main server's peak over all its scenarios
	rss      rssResult
}

// row is one scenario on one server: its best round.
type row struct {
	scenario, server string
	conns            int
	res              result
}

// rssResult is the peak-memory round of goal 7.
type rssResult struct {
	conns int     // 0 when the round did not run
	peak  float64 // MiB, VmHWM at the end of the round
	start float64 // MiB, VmHWM once the server answered /healthz
}

func (c *config) add(scenario, server string, conns int, res result) {
	c.rows = append(c.rows, row{scenario, server, conns, res})
}

// rate is the req/s of a scenario on a server, or 0 when it was not measured or nothing
// succeeded.
func (c *config) rate(scenario, server string) float64 {
	if c == nil {
		return 0
	}
	for _, r := range c.rows {
		if r.scenario == scenario && r.server == server {
			return r.res.rate()
		}
	}
	return 0
}

// printHeader says what ran where, so that pasted output documents itself.
func printHeader(w io.Writer, root string, o options) {
	fmt.Fprintln(w, "ciphemic load benchmark,", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine: %d CPUs (nproc), %s, %s %s/%s\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(w, "revision:", revision(root))
	fmt.Fprintln(w, "command:", commandLine())
	fmt.Fprintf(w, "load: best of %d × %s rounds per scenario and server; %d connections for me, verify "+
		"and write, %d refresh chains, %d for login; one load-generating process on the same machine; "+
		"req/s counts 2xx answers only\n\n",
		o.rounds, o.duration, o.conns, o.chains, o.loginConns)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func revision(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output() // #nosec G204 -- root is the repository go env GOMOD named
	if err != nil {
		return "unknown (no git)"
	}
	return strings.TrimSpace(string(out))
}

// commandLine is how this run was started; `go run` builds into a go-build directory.
func commandLine() string {
	self, err := os.Executable()
	if err != nil || strings.Contains(self, "go-build") {
		self = "go run ./bench"
	}
	return strings.Join(append([]string{self}, os.Args[1:]...), " ")
}

// printTable prints one configuration's rows.
func printTable(w io.Writer, c *config) {
	fmt.Fprintf(w, "== %s ==\n", c.title)
	const format = "%-12s %-9s %5v %9s %10s %10s %7v\n"
	fmt.Fprintf(w, format, "scenario", "server", "conns", "req/s", "p50", "p99", "errors")
	var notes []string
	for _, r := range c.rows {
		fmt.Fprintf(w, format, r.scenario, r.server, r.conns, formatRate(r.res.rate()),
			formatLatency(r.res.percentile(0.5)), formatLatency(r.res.percentile(0.99)), r.res.errs)
		if r.res.errs > 0 {
			notes = append(notes, fmt.Sprintf("  %s on %s, first error: %s", r.scenario, r.server, r.res.firstErr))
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)
}

// printConfig prints a ciphemic configuration's table and its ratios to the baselines,
// the Django reference's among its rows when withDjango.
func printConfig(w io.Writer, c *config, o options, withDjango bool) {
	printTable(w, c)
	fmt.Fprintf(w, "ratios (%s):\n", c.title)
	onSQLite := c.store == "sqlite"
	if o.wants("me") {
		ratioLine(w, "me / bare", c.rate("me", "ciphemic"), c.rate("me", "bare"), "≥ 0.7", 0.7, true)
	}
	for _, sc := range []struct {
		name string
		goal float64
	}{{"me", 20}, {"refresh", 20}, {"verify", 0}, {"write", 0}, {"login", 0}} {
		if !o.wants(sc.name) {
			continue
		}
		if !withDjango {
			fmt.Fprintf(w, "  %-17s n/a (no Django reference in this run)\n", sc.name+" / django")
			continue
		}
		goal, applies := "", sc.goal > 0 && (sc.name == "me" || onSQLite)
		if applies {
			goal = fmt.Sprintf("≥ %g", sc.goal)
		}
		ratioLine(w, sc.name+" / django", c.rate(sc.name, "ciphemic"), c.rate(sc.name, "django"), goal, sc.goal, applies)
	}
	printLoginBound(w, c)
	printRSS(w, c, onSQLite)
	fmt.Fprintln(w)
}

// ratioLine prints a/b against its goal; a zero on either side is n/a.
func ratioLine(w io.Writer, name string, a, b float64, goal string, want float64, applies bool) {
	if a == 0 || b == 0 {
		fmt.Fprintf(w, "  %-17s n/a (a side was not measured or had no successful request)\n", name)
		return
	}
	fmt.Fprintf(w, "  %-17s %7.2f   (%s / %s req/s)%s\n", name, a/b, formatRate(a), formatRate(b), verdict(goal, applies && a/b >= want, applies))
}

func printLoginBound(w io.Writer, c *config) {
	measured, bound := c.rate("login", "ciphemic"), c.bound.rate()
	if measured == 0 || bound == 0 {
		return
	}
	fmt.Fprintf(w, "  %-17s %7.2f   (%s logins/s; bound = 0.9 × %d CPUs ÷ %s per argon2id verification alone = %s/s)%s\n",
		"login / bound", measured/bound, formatRate(measured), c.bound.cpus, formatLatency(c.bound.alone),
		formatRate(bound), verdict("≥ 1", measured >= bound, true))
	if hw := c.bound.hardwareRate(); hw > 0 {
		fmt.Fprintf(w, "  %-17s %7.2f   (bound = 0.9 × %d CPUs ÷ %s per verification while every core verifies = %s/s)\n",
			"login / hw bound", measured/hw, c.bound.cpus, formatLatency(c.bound.allCores), formatRate(hw))
	}
}

func printRSS(w io.Writer, c *config, onSQLite bool) {
	if c.rss.conns > 0 {
		goal := ""
		if onSQLite {
			goal = verdict("≤ 64 MiB", c.rss.peak <= 64, true)
		}
		fmt.Fprintf(w, "  %-17s %7.1f MiB (%d connections: me, then refresh chains)%s\n", "peak RSS", c.rss.peak, c.rss.conns, goal)
		fmt.Fprintf(w, "  %-17s %7.1f MiB of it at start-up (a fresh server; the main one issued its tokens)\n", "", c.rss.start)
	}
	if c.wholeRun > 0 {
		fmt.Fprintf(w, "  %-17s %7.1f MiB (the main server, over all its scenarios, login included)\n", "peak RSS, run", c.wholeRun)
	}
}

func verdict(goal string, met, applies bool) string {
	switch {
	case !applies || goal == "":
		return ""
	case met:
		return "   goal " + goal + ": met"
	default:
		return "   goal " + goal + ": NOT met"
	}
}

func formatRate(r float64) string {
	if r < 100 {
		return fmt.Sprintf("%.1f", r)
	}
	s := fmt.Sprintf("%.0f", r)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func formatLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
