package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// bench is one run: its settings, its temporary directory and its children.
type bench struct {
	o        options
	root     string // the repository
	dir      string // temporary; removed at the end
	bin      string // the ciphemic binary built for this run
	ps       *procs
	stdout   io.Writer
	progress io.Writer
	// django is the Django reference, running for the whole run and measured in every
	// scenario beside ciphemic; nil when it is skipped.
	django *server
}

// run is the whole benchmark: ciphemic on each store with each algorithm, each scenario
// measured in alternation with the bare baseline (me) and the Django reference, which
// runs for the whole run. Each table is printed as soon as it is measured, so a failure
// late in a run keeps what came before.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	if !filepath.IsAbs(o.djangoRef) {
		o.djangoRef = filepath.Join(root, o.djangoRef)
	}
	dir, err := os.MkdirTemp("", "ciphemic-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{o: o, root: root, dir: dir, ps: &procs{}, stdout: stdout, progress: stderr}
	defer b.ps.stopAll()
	printHeader(stdout, root, o)
	return b.all(ctx)
}

// all builds ciphemic and measures every configuration.
func (b *bench) all(ctx context.Context) error {
	fmt.Fprintln(b.progress, "bench: building ./cmd/ciphemic")
	var err error
	if b.bin, err = buildCiphemic(ctx, b.root, b.dir); err != nil {
		return err
	}
	if err := b.startDjango(ctx); err != nil {
		return err
	}
	if b.django != nil {
		defer b.ps.stop(b.django.proc)
	}
	for _, store := range b.o.stores {
		for _, alg := range b.o.algorithms {
			c, err := b.ciphemic(ctx, store, alg)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", store, alg, err)
			}
			printConfig(b.stdout, c, b.o, b.django != nil)
		}
	}
	return nil
}

// startDjango starts the Django reference for the whole run, or says why it does not.
// It is measured in each configuration's scenarios, in alternation with ciphemic, and
// not once before them: the machine's speed moves by 15 % and more between rounds
// minutes apart (docs/PERFORMANCE.md), and a ratio of two rates is only as good as the
// likeness of the moments they were measured in.
func (b *bench) startDjango(ctx context.Context) error {
	why := "off (-django off)"
	if b.o.django == "auto" {
		why = djangoMissing(ctx, b.o.djangoRef)
	}
	if why != "" {
		fmt.Fprintf(b.stdout, "django-ref: skipped: %s\n\n", why)
		return nil
	}
	fmt.Fprintln(b.progress, "bench: starting the Django reference (migrate, seed, gunicorn)")
	s, err := startDjango(ctx, b.ps, b.dir, b.o.djangoRef)
	if err != nil {
		return err
	}
	b.django = s
	fmt.Fprintf(b.stdout, "django-ref: gunicorn, 2 sync workers, SQLite, HS256; measured in every scenario "+
		"of every configuration, in alternation with ciphemic (the rows of server django)\n\n")
	return nil
}

// ciphemic measures one configuration: a fresh store (a SQLite file, or a scratch
// PostgreSQL database) and a new key of one algorithm, in a directory of its own.
func (b *bench) ciphemic(ctx context.Context, store, alg string) (*config, error) {
	dir := filepath.Join(b.dir, store+"-"+alg)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	database, drop, err := b.database(ctx, store, dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := drop(); err != nil {
			fmt.Fprintln(b.progress, "bench: drop the scratch database:", err)
		}
	}()
	in, err := newInstance(ctx, b.bin, dir, database, alg)
	if err != nil {
		return nil, err
	}
	c := &config{title: fmt.Sprintf("ciphemic, %s, %s", store, alg), store: store}
	pairs, err := b.mainRounds(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if len(pairs) > 0 {
		if err := b.rssRound(ctx, c, in, pairs); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (b *bench) database(ctx context.Context, store, dir string) (string, func() error, error) {
	if store == "postgres" {
		return scratchDatabase(ctx, b.o.postgresURL)
	}
	return "sqlite:" + filepath.Join(dir, "ciphemic.db"), func() error { return nil }, nil
}

// mainRounds runs the scenarios on one ciphemic server, and me on the bare baseline too.
// It returns the tokens of the peak-memory round, issued by this server.
func (b *bench) mainRounds(ctx context.Context, c *config, in *instance) ([]tokenPair, error) {
	s, err := in.start(ctx, b.ps)
	if err != nil {
		return nil, err
	}
	defer b.ps.stop(s.proc)
	if err := in.createUsers(ctx); err != nil {
		return nil, err
	}
	for _, name := range scenarioNames {
		if sc, ok := scenarios[name]; ok && b.o.wants(name) {
			if err := b.scenario(ctx, c, sc, in, s); err != nil {
				return nil, err
			}
		}
	}
	var pairs []tokenPair
	if b.o.wants("rss") {
		fmt.Fprintf(b.progress, "bench: %s: %d logins for the peak-memory round\n", c.title, b.o.rssConns)
		if pairs, err = logins(ctx, s, b.o.rssConns); err != nil {
			return nil, err
		}
	}
	c.wholeRun, err = peakRSS(s.proc.pid())
	return pairs, err
}

// scenario measures sc on s, on the Django reference, and on the bare baseline for me;
// the login bound is timed right before the logins, while no load runs.
func (b *bench) scenario(ctx context.Context, c *config, sc scenario, in *instance, s *server) error {
	servers := []*server{s}
	if b.django != nil {
		servers = append(servers, b.django)
	}
	switch sc.name {
	case "me":
		bare, err := startBare(ctx, b.ps, in.dir, s)
		if err != nil {
			return err
		}
		defer b.ps.stop(bare.proc)
		servers = append(servers, bare)
	case "login":
		var err error
		if c.bound, err = measureLoginBound(); err != nil {
			return err
		}
	}
	return b.measure(ctx, c, sc, sc.name, servers, sc.conns(b.o))
}

// rssRound measures goal 7: the peak resident memory of a fresh server over its whole
// life while -rss-conns connections load me, then as many refresh chains. Its tokens were
// issued by the main server over the same store and key, so that no login (19 MiB of
// argon2 memory each) happens during the round; the server's own start-up, which hashes
// one password, is part of the peak.
func (b *bench) rssRound(ctx context.Context, c *config, in *instance, pairs []tokenPair) error {
	s, err := in.start(ctx, b.ps)
	if err != nil {
		return err
	}
	defer b.ps.stop(s.proc)
	pid := s.proc.pid()
	if c.rss.start, err = peakRSS(pid); err != nil {
		return err
	}
	n := len(pairs)
	fmt.Fprintf(b.progress, "bench: %s: peak-memory round, %d connections\n", c.title, n)
	c.add("rss me", s.name, n, runLoad(ctx, s.addr, meRequests(s, pairs[0].Access, n), b.o.duration))
	c.add("rss refresh", s.name, n, runLoad(ctx, s.addr, chains(s, pairs), b.o.duration))
	if err := ctx.Err(); err != nil {
		return err
	}
	c.rss.conns = n
	c.rss.peak, err = peakRSS(pid)
	return err
}

// resumeAll readies the workers that a round's end cut off (resumer).
func resumeAll(ctx context.Context, ws []worker) error {
	for _, w := range ws {
		if r, ok := w.(resumer); ok {
			if err := r.resume(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// measure runs sc on every server for -rounds rounds, alternating the servers within a
// round so that a change in the machine's load hits them alike, and keeps each server's
// best round. The workers are made once, so refresh chains and course codes carry on
// from one round to the next.
func (b *bench) measure(ctx context.Context, c *config, sc scenario, label string, servers []*server, n int) error {
	workers := make([][]worker, len(servers))
	for i, s := range servers {
		var err error
		if workers[i], err = sc.workers(ctx, s, n); err != nil {
			return err
		}
	}
	best := make([]result, len(servers))
	for r := range b.o.rounds {
		for i, s := range servers {
			if err := resumeAll(ctx, workers[i]); err != nil {
				return err
			}
			fmt.Fprintf(b.progress, "bench: %s: %s on %s, round %d/%d\n", c.title, label, s.name, r+1, b.o.rounds)
			res := runLoad(ctx, s.addr, workers[i], b.o.duration)
			if err := ctx.Err(); err != nil {
				return err
			}
			if r == 0 || res.rate() > best[i].rate() {
				best[i] = res
			}
		}
	}
	for i, s := range servers {
		c.add(label, s.name, n, best[i])
	}
	return nil
}
