package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store"
)

// forget is how long the suite's login failures are remembered without a new one.
const forget = 24 * time.Hour

// linearBackoff blocks for failures seconds once more than free failures are counted.
func linearBackoff(free int) func(int) time.Duration {
	return func(failures int) time.Duration {
		if failures <= free {
			return 0
		}
		return time.Duration(failures) * time.Second
	}
}

// mustBlockedUntil returns LoginBlockedUntil(username, now), failing t on an error.
func mustBlockedUntil(t *testing.T, db *store.DB, username string, now time.Time) time.Time {
	t.Helper()
	until, err := db.LoginBlockedUntil(context.Background(), username, now)
	if err != nil {
		t.Fatalf("LoginBlockedUntil(%q) = %v", username, err)
	}
	return until
}

// mustFail records a failure of username at now and returns the block and whether it
// counted.
func mustFail(t *testing.T, db *store.DB, username string, now time.Time, backoff func(int) time.Duration) (time.Time, bool) {
	t.Helper()
	until, counted, err := db.RecordLoginFailure(context.Background(), username, now, forget, backoff)
	if err != nil {
		t.Fatalf("RecordLoginFailure(%q, %v) = %v", username, now, err)
	}
	return until, counted
}

// wantBlock fails t unless a block reads back as want (the zero time: none).
func wantBlock(t *testing.T, call string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", call, got, want)
	}
}

// at is t0 plus d, at the microsecond precision the store keeps.
func at(d time.Duration) time.Time {
	return t0.Add(d).Truncate(time.Microsecond)
}

// testLoginFailures: failures count up per username, the back-off sees the count, and the
// block reads back until it passes; other usernames, however alike, are not affected.
func testLoginFailures(t *testing.T, db *store.DB) {
	wantBlock(t, "LoginBlockedUntil(alice) before any failure", mustBlockedUntil(t, db, "alice", t0), time.Time{})
	backoff := linearBackoff(2)
	for i := 1; i <= 4; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		want := time.Time{}
		if i > 2 {
			want = at(time.Duration(i)*time.Minute + time.Duration(i)*time.Second)
		}
		until, counted := mustFail(t, db, "alice", now, backoff)
		wantBlock(t, fmt.Sprintf("RecordLoginFailure(alice) #%d", i), until, want)
		if !counted {
			t.Errorf("RecordLoginFailure(alice) #%d counted = false, want true", i)
		}
		wantBlock(t, "LoginBlockedUntil(alice)", mustBlockedUntil(t, db, "alice", now), want)
	}
	end := t0.Add(4*time.Minute + 4*time.Second)
	wantBlock(t, "LoginBlockedUntil(alice) when the block ends", mustBlockedUntil(t, db, "alice", end), time.Time{})
	for _, other := range []string{"Alice", "alice ", "bob"} {
		wantBlock(t, fmt.Sprintf("LoginBlockedUntil(%q)", other), mustBlockedUntil(t, db, other, t0), time.Time{})
	}
}

// testLoginFailureWhileBlocked: a failure during a block is not counted and leaves the
// block as it was; the first one after it counts on from where the count stood.
func testLoginFailureWhileBlocked(t *testing.T, db *store.DB) {
	var seen []int
	backoff := func(failures int) time.Duration {
		seen = append(seen, failures)
		return time.Minute
	}
	first, _ := mustFail(t, db, "alice", t0, backoff)
	for _, d := range []time.Duration{0, time.Second, time.Minute - time.Microsecond} {
		until, counted := mustFail(t, db, "alice", t0.Add(d), backoff)
		if counted || !until.Equal(first) {
			t.Errorf("RecordLoginFailure(alice) %v into the block = %v, %t, want %v, false", d, until, counted, first)
		}
	}
	until, counted := mustFail(t, db, "alice", t0.Add(time.Minute), backoff)
	if !counted || !until.Equal(at(2*time.Minute)) {
		t.Errorf("RecordLoginFailure(alice) when the block ends = %v, %t, want %v, true", until, counted, at(2*time.Minute))
	}
	if want := []int{1, 2}; !slices.Equal(seen, want) {
		t.Errorf("counts seen by the back-off = %v, want %v", seen, want)
	}
	if until, counted := mustFail(t, db, "bob", t0, nil); !until.IsZero() || !counted {
		t.Errorf("RecordLoginFailure(bob, nil backoff) = %v, %t, want zero, true", until, counted)
	}
}

// testLoginFailuresForgotten: a failure coming forget or more after the previous one
// starts the count again at 1.
func testLoginFailuresForgotten(t *testing.T, db *store.DB) {
	var seen []int
	record := func(failures int) time.Duration {
		seen = append(seen, failures)
		return time.Duration(failures) * time.Hour
	}
	mustFail(t, db, "alice", t0, record)
	mustFail(t, db, "alice", t0.Add(forget-time.Microsecond), record)
	later := t0.Add(2*forget - time.Microsecond)
	got, _ := mustFail(t, db, "alice", later, record)
	if want := []int{1, 2, 1}; !slices.Equal(seen, want) {
		t.Errorf("counts seen by the back-off = %v, want %v", seen, want)
	}
	wantBlock(t, "RecordLoginFailure(alice) after a quiet day", got, later.Add(time.Hour).Truncate(time.Microsecond))
}

// testResetLoginFailures: a reset forgets the count and the block of one username only.
func testResetLoginFailures(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		mustFail(t, db, name, t0, linearBackoff(0))
	}
	if err := db.ResetLoginFailures(ctx, "alice"); err != nil {
		t.Fatalf("ResetLoginFailures(alice) = %v", err)
	}
	wantBlock(t, "LoginBlockedUntil(alice) after reset", mustBlockedUntil(t, db, "alice", t0), time.Time{})
	if mustBlockedUntil(t, db, "bob", t0).IsZero() {
		t.Errorf("LoginBlockedUntil(bob) after resetting alice = zero, want bob still blocked")
	}
	var seen int
	if _, counted := mustFail(t, db, "alice", t0, func(n int) time.Duration { seen = n; return 0 }); !counted || seen != 1 {
		t.Errorf("failure after reset: counted %t as #%d, want counted as #1", counted, seen)
	}
	if err := db.ResetLoginFailures(ctx, "nobody"); err != nil {
		t.Errorf("ResetLoginFailures(nobody) = %v, want nil", err)
	}
}

// testLoginFailureOddNames: any typed name is counted, whatever its length or bytes.
func testLoginFailureOddNames(t *testing.T, db *store.DB) {
	for _, name := range []string{strings.Repeat("x", 100_000), "", "a\x00b", "ünï'\"; DROP TABLE users"} {
		if until, _ := mustFail(t, db, name, t0, linearBackoff(0)); until.IsZero() {
			t.Errorf("RecordLoginFailure(%.20q) = zero, want a block", name)
		}
		if mustBlockedUntil(t, db, name, t0).IsZero() {
			t.Errorf("LoginBlockedUntil(%.20q) = zero, want a block", name)
		}
	}
}

// testFlushLoginFailures: only counts whose last failure and block both ended go.
func testFlushLoginFailures(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mustFail(t, db, "stale", t0.Add(-2*time.Hour), nil)
	mustFail(t, db, "blocked", t0.Add(-2*time.Hour), func(int) time.Duration { return 3 * time.Hour })
	mustFail(t, db, "recent", t0, nil)
	n, err := db.FlushLoginFailures(ctx, t0.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("FlushLoginFailures(t0-1h) = %d, %v, want 1, nil", n, err)
	}
	// A flushed count starts again at 1; a kept one goes on.
	for name, want := range map[string]int{"stale": 1, "recent": 2} {
		var seen int
		mustFail(t, db, name, t0, func(n int) time.Duration { seen = n; return 0 })
		if seen != want {
			t.Errorf("after FlushLoginFailures, next failure of %s is #%d, want #%d", name, seen, want)
		}
	}
	if mustBlockedUntil(t, db, "blocked", t0).IsZero() {
		t.Errorf("after FlushLoginFailures, a block still running was deleted")
	}
}

// testConcurrentLoginFailures: failures recorded at once from many goroutines are each
// counted exactly once, and once a count earns a block no later one is counted.
func testConcurrentLoginFailures(t *testing.T, db *store.DB) {
	const n = 64
	for _, tc := range []struct {
		name    string
		blockAt int // the count that earns a block; 0: none does
		want    int
	}{{"alice", 0, n}, {"bob", 5, 5}} {
		var (
			mu   sync.Mutex
			seen []int
		)
		backoff := func(failures int) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, failures)
			if tc.blockAt > 0 && failures >= tc.blockAt {
				return time.Minute
			}
			return 0
		}
		errs := recordAtOnce(db, tc.name, n, backoff)
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s: RecordLoginFailure #%d = %v", tc.name, i, err)
			}
		}
		slices.Sort(seen)
		want := make([]int, tc.want)
		for i := range want {
			want[i] = i + 1
		}
		if !slices.Equal(seen, want) {
			t.Errorf("%s: counts seen by the back-off = %v, want 1..%d each once", tc.name, seen, tc.want)
		}
	}
}

// recordAtOnce records n failures of username together and returns their errors.
func recordAtOnce(db *store.DB, username string, n int, backoff func(int) time.Duration) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, errs[i] = db.RecordLoginFailure(context.Background(), username, t0, forget, backoff)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
