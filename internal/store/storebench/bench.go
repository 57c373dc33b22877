package storebench

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// Backend is what a store backend gives the benchmarks.
type Backend struct {
	// Open returns a fresh, migrated, empty store and a pool on the same database for
	// seeding; both close when b ends.
	Open func(b *testing.B) (*store.DB, *sql.DB)
	// InsertRows is how many rows one seeding INSERT writes. SQLite looks $n parameters
	// up by name in a list, so a statement's cost grows with the square of its
	// parameters and about 50 rows do best; PostgreSQL gains up to hundreds.
	InsertRows int
	// AfterSeed, when set, runs after seeding what the database's own maintenance would
	// run after a bulk load (PostgreSQL's autovacuum: VACUUM ANALYZE).
	AfterSeed func(ctx context.Context, raw *sql.DB) error
}

// users is how many users the seeded rows belong to.
const users = 10_000

// chainCount is how many live sessions a benchmark rotates, round-robin: the same for
// every row count, so that only the rows differ.
const chainCount = 100

// seeded opens a store and seeds it with traffic, outside the benchmark's timer.
func (be Backend) seeded(b *testing.B, traffic Traffic) (*store.DB, []string) {
	b.Helper()
	ctx := context.Background()
	db, raw := be.Open(b)
	start := time.Now()
	heads, err := Seed(ctx, raw, be.InsertRows, traffic, start)
	if err != nil {
		b.Fatalf("Seed(%+v) = %v", traffic, err)
	}
	if be.AfterSeed != nil {
		if err := be.AfterSeed(ctx, raw); err != nil {
			b.Fatalf("after seeding: %v", err)
		}
	}
	b.Logf("seeded %+v in %v", traffic, time.Since(start).Round(time.Millisecond))
	return db, heads
}

// chains are live sessions whose clients refresh in turn, each presenting the refresh
// token its last rotation returned.
type chains struct {
	heads []string
	next  int
	rng   *rand.Rand
}

func newChains(heads []string) *chains {
	return &chains{heads: heads[:min(len(heads), chainCount)], rng: rand.New(rand.NewPCG(3, 4))} // #nosec G404 -- a benchmark's choice of chain, seeded so runs compare
}

// rotate refreshes the next session once, as the refresh endpoint does, and returns how
// long it took.
func (c *chains) rotate(b *testing.B, db *store.DB) time.Duration {
	i := c.next % len(c.heads)
	c.next++
	at := time.Now()
	next := jtiAt(c.rng, at.UnixMicro())
	rt := ciphemic.RefreshToken{JTI: next, ExpiresAt: at.Add(lifetime)}
	start := time.Now()
	if _, err := db.RotateRefreshToken(context.Background(), c.heads[i], rt, true, at); err != nil {
		b.Fatalf("RotateRefreshToken(%s) = %v", c.heads[i], err)
	}
	c.heads[i] = next
	return time.Since(start)
}

// rotations is how many rotations one run of a benchmark times without cleanup.
const rotations = 5_000

// RotateRows is BenchmarkRotateRows: refresh rotations of live sessions in a store holding
// 1,000 and 1,000,000 refresh-token rows of 10,000 users, 80 % expired and 10 % spent, as
// a year of traffic leaves them. The cost of a rotation must not grow with the rows, so
// the p50 of both should be close. The million rows are skipped under -short.
//
// One iteration is a whole run, seeding (untimed) included, so that -benchtime 1x runs
// each once; a longer -benchtime seeds again and adds rotations.
func RotateRows(b *testing.B, be Backend) {
	for _, rows := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows > 100_000 && testing.Short() {
				b.Skip("seeding a million rows takes a while; run without -short")
			}
			var lat latencies
			for b.Loop() {
				b.StopTimer()
				db, heads := be.seeded(b, Traffic{Users: users, Expired: rows * 8 / 10, Spent: rows / 10, Live: rows / 10})
				c := newChains(heads)
				b.StartTimer()
				for range rotations {
					lat = append(lat, c.rotate(b, db))
				}
			}
			lat.report(b, "")
		})
	}
}

// RotateDuringCleanup is BenchmarkRotateDuringCleanup: in a store holding expired rows
// (20,000, and 200,000 and a million, skipped under -short), live sessions refresh
// without a pause while phases of cleanupPhase alternate: one with no cleanup running
// (base-), then one in which Sweep deletes expired rows (cleanup-), until the sweep has
// deleted every expired row. It reports the p50 and p99 of both, their p99 ratio, and how
// long the sweep ran.
//
// The phases alternate, rather than a baseline first and the sweep after it, because
// refreshing without a pause is itself a sustained write load, and its p99 rises for
// the first minute or more of it (the operating system's write-back of what the commits
// wrote catching up): a short baseline taken first measured a store that had not yet
// written anything, and the sweep, which comes after, the same load a minute later. In
// alternation both see the same store, the same rows and the same write-back. As in
// RotateRows, one iteration is a whole run.
func RotateDuringCleanup(b *testing.B, be Backend) {
	for _, expired := range []int{20_000, 200_000, 1_000_000} {
		b.Run(fmt.Sprintf("expired=%d", expired), func(b *testing.B) {
			if expired > 100_000 && testing.Short() {
				b.Skip("seeding a million rows takes a while; run without -short")
			}
			var base, during latencies
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				db, heads := be.seeded(b, Traffic{Users: users, Expired: expired, Live: chainCount})
				b.StartTimer()
				c := newChains(heads)
				cutoff := time.Now() // every expired row expired before it; no live one expires before the run ends
				swept := 0
				for finished := false; !finished; {
					base = append(base, c.rotateFor(b, db, cleanupPhase)...)
					lat, n, d, end := c.rotateDuringSweep(b, db, cutoff, cleanupPhase)
					during, swept, took, finished = append(during, lat...), swept+n, took+d, end
				}
				if swept != expired {
					b.Fatalf("the sweeps deleted %d refresh tokens, want %d", swept, expired)
				}
			}
			base.report(b, "base-")
			during.report(b, "cleanup-")
			b.ReportMetric(float64(during.quantile(0.99))/float64(base.quantile(0.99)), "p99-ratio")
			b.ReportMetric(took.Seconds()/float64(b.N), "sweep-s")
		})
	}
}

// cleanupPhase is how long each phase of RotateDuringCleanup lasts: long enough for
// thousands of rotations, short enough that the two kinds of phase see the same state of
// the machine.
const cleanupPhase = 2 * time.Second

// rotateFor rotates sessions for d and returns their latencies.
func (c *chains) rotateFor(b *testing.B, db *store.DB, d time.Duration) latencies {
	var lat latencies
	for end := time.Now().Add(d); time.Now().Before(end); {
		lat = append(lat, c.rotate(b, db))
	}
	return lat
}

// rotateDuringSweep rotates sessions for as long as a sweep of the rows expired at cutoff
// runs, for d at most, and returns their latencies, how many refresh tokens the sweep
// deleted, how long it ran and whether it finished. A sweep that d stops keeps what it
// deleted; the next one goes on from there.
func (c *chains) rotateDuringSweep(b *testing.B, db *store.DB, cutoff time.Time, d time.Duration) (latencies, int, time.Duration, bool) {
	var (
		swept store.Swept
		err   error
		done  = make(chan struct{})
		start = time.Now()
	)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	go func() {
		defer close(done)
		swept, err = db.Sweep(ctx, store.Sweep{Now: cutoff})
	}()
	var lat latencies
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			lat = append(lat, c.rotate(b, db))
		}
	}
	took := time.Since(start)
	// Stopped by d, the sweep's error is whatever the batch it was in made of the
	// deadline (the driver's, or the context's own): the phase's end, not a failure.
	stopped := err != nil && ctx.Err() != nil
	if err != nil && !stopped {
		b.Fatalf("Sweep() = %+v, %v", swept, err)
	}
	return lat, int(swept.RefreshTokens), took, !stopped
}
