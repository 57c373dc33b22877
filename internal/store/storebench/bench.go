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
// (a million, skipped under -short, and 20,000), live sessions refresh first with no
// cleanup running (base-), then while Sweep deletes every expired row (cleanup-). It
// reports the p50 and p99 of both, their p99 ratio, and how long the sweep took. As in
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
				for range rotations {
					base = append(base, c.rotate(b, db))
				}
				lat, d := c.rotateDuringSweep(b, db, expired)
				during, took = append(during, lat...), took+d
			}
			base.report(b, "base-")
			during.report(b, "cleanup-")
			b.ReportMetric(float64(during.quantile(0.99))/float64(base.quantile(0.99)), "p99-ratio")
			b.ReportMetric(took.Seconds()/float64(b.N), "sweep-s")
		})
	}
}

// rotateDuringSweep rotates sessions for as long as a sweep of db runs, and returns their
// latencies and the sweep's duration; the sweep must delete want refresh tokens.
func (c *chains) rotateDuringSweep(b *testing.B, db *store.DB, want int) (latencies, time.Duration) {
	var (
		swept store.Swept
		err   error
		done  = make(chan struct{})
		start = time.Now()
	)
	go func() {
		defer close(done)
		swept, err = db.Sweep(context.Background(), store.Sweep{Now: start})
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
	if err != nil || swept.RefreshTokens != int64(want) {
		b.Fatalf("Sweep() = %+v, %v, want %d refresh tokens deleted", swept, err, want)
	}
	return lat, took
}
