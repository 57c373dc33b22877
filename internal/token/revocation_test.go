package token

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// memSource is an in-memory RevocationSource: the log as a slice, filtered by CreatedAt.
type memSource struct {
	mu     sync.Mutex
	revs   []ciphemic.Revocation
	err    error
	sinces []time.Time
	calls  chan struct{} // if set, receives after every call
}

func (m *memSource) add(r ...ciphemic.Revocation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revs = append(m.revs, r...)
}

func (m *memSource) RevocationsSince(_ context.Context, since time.Time) ([]ciphemic.Revocation, error) {
	out, err := m.revocationsSince(since)
	// Signal only after the lock is released: a test that receives and then locks m.mu
	// must not wait on a sender that still holds it.
	if m.calls != nil {
		m.calls <- struct{}{}
	}
	return out, err
}

func (m *memSource) revocationsSince(since time.Time) ([]ciphemic.Revocation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sinces = append(m.sinces, since)
	if m.err != nil {
		return nil, m.err
	}
	var out []ciphemic.Revocation
	for _, r := range m.revs {
		if !r.CreatedAt.Before(since) {
			out = append(out, r)
		}
	}
	return out, nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func mustSync(t *testing.T, v *RevocationView, src RevocationSource) {
	t.Helper()
	if err := v.Sync(context.Background(), src); err != nil {
		t.Fatalf("Sync = %v", err)
	}
}

func accessClaims(jti string, user int64, issued time.Time) Claims {
	return Claims{Type: TypeAccess, JTI: jti, UserID: user, IssuedAt: issued, ExpiresAt: issued.Add(5 * time.Minute)}
}

func TestRevokedByJTI(t *testing.T) {
	clk := &clock{t: t0}
	v := NewRevocationView(clk.now)
	src := &memSource{}
	src.add(ciphemic.Revocation{JTI: "aaa", UserID: 7, ExpiresAt: t0.Add(time.Minute), CreatedAt: t0})
	mustSync(t, v, src)
	if !v.Revoked(accessClaims("aaa", 7, t0)) {
		t.Error("Revoked(listed jti) = false, want true")
	}
	if v.Revoked(accessClaims("bbb", 7, t0)) {
		t.Error("Revoked(other jti of the same user) = true, want false")
	}
}

func TestRevokedByUserToTheMillisecond(t *testing.T) {
	clk := &clock{t: t0}
	v := NewRevocationView(clk.now)
	validAfter := t0.Add(123_456_789) // sub-millisecond part is dropped: 123ms
	v.Apply(ciphemic.Revocation{UserID: 7, ValidAfter: validAfter, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0})
	ms := validAfter.Truncate(time.Millisecond)
	tests := []struct {
		user   int64
		issued time.Time
		want   bool
	}{
		{7, ms.Add(-time.Second), true},
		{7, ms.Add(-time.Millisecond), true},
		{7, ms, true},
		{7, validAfter, true},                   // same millisecond as ValidAfter
		{7, ms.Add(time.Millisecond - 1), true}, // still that millisecond
		{7, ms.Add(time.Millisecond), false},    // the login right after revoke-all
		{7, ms.Add(time.Second), false},
		{8, ms.Add(-time.Second), false},
	}
	for _, tc := range tests {
		if got := v.Revoked(accessClaims("x", tc.user, tc.issued)); got != tc.want {
			t.Errorf("Revoked(user %d issued %v) = %v, want %v", tc.user, tc.issued.Sub(ms), got, tc.want)
		}
	}
}

func TestRevokedWithParsedTokens(t *testing.T) {
	s := mustService(t, testConfig(), mustKey(t, "HS256", 0))
	v := NewRevocationView(fixedClock(t0))
	before, _ := mustIssueAccess(t, s, t0)
	v.Apply(ciphemic.Revocation{UserID: 7, ValidAfter: t0, ExpiresAt: t0.Add(time.Hour)})
	after, _ := mustIssueAccess(t, s, t0.Add(time.Millisecond)) // same second as the revocation
	for raw, want := range map[string]bool{before: true, after: false} {
		c, err := s.Parse(raw, TypeAccess)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Revoked(c); got != want {
			t.Errorf("Revoked(token issued %v after revoke-all) = %v, want %v", c.IssuedAt.Sub(t0), got, want)
		}
	}
}

func TestValidAfterNeverMovesBack(t *testing.T) {
	v := NewRevocationView(fixedClock(t0))
	later, earlier := t0.Add(10*time.Second), t0
	v.Apply(ciphemic.Revocation{UserID: 7, ValidAfter: later, ExpiresAt: t0.Add(time.Hour)})
	v.Apply(ciphemic.Revocation{UserID: 7, ValidAfter: earlier, ExpiresAt: t0.Add(2 * time.Hour)})
	if !v.Revoked(accessClaims("x", 7, t0.Add(5*time.Second))) {
		t.Error("an earlier ValidAfter moved the user's ValidAfter back")
	}
}

func TestApplyIgnoresExpired(t *testing.T) {
	v := NewRevocationView(fixedClock(t0))
	v.Apply(
		ciphemic.Revocation{JTI: "old", ExpiresAt: t0, CreatedAt: t0},
		ciphemic.Revocation{UserID: 7, ValidAfter: t0, ExpiresAt: t0.Add(-time.Second), CreatedAt: t0},
		ciphemic.Revocation{UserID: 8, ValidAfter: t0}, // no expiry: nothing to keep
	)
	if len(v.jtis) != 0 || len(v.users) != 0 {
		t.Errorf("Apply(expired entries) kept jtis %v users %v, want none", v.jtis, v.users)
	}
}

func TestApplyIgnoresExpiredAndGCForgets(t *testing.T) {
	clk := &clock{t: t0}
	v := NewRevocationView(clk.now)
	src := &memSource{}
	src.add(
		ciphemic.Revocation{JTI: "old", ExpiresAt: t0.Add(-time.Second), CreatedAt: t0},
		ciphemic.Revocation{JTI: "soon", ExpiresAt: t0.Add(time.Minute), CreatedAt: t0},
		ciphemic.Revocation{UserID: 8, ValidAfter: t0, ExpiresAt: t0.Add(time.Minute), CreatedAt: t0},
		ciphemic.Revocation{UserID: 9, ValidAfter: t0, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0},
	)
	mustSync(t, v, src)
	if v.Revoked(accessClaims("old", 1, t0)) {
		t.Error("an already expired jti entry was applied")
	}
	if n := len(v.jtis) + len(v.users); n != 3 {
		t.Errorf("view holds %d entries after the first Sync, want 3", n)
	}
	clk.set(t0.Add(time.Minute)) // "soon" and user 8 have expired; the overlap re-reads them
	mustSync(t, v, src)
	if len(v.jtis) != 0 || len(v.users) != 1 {
		t.Errorf("after expiry the view holds jtis %v users %v, want only user 9", v.jtis, v.users)
	}
	if !v.Revoked(accessClaims("x", 9, t0)) {
		t.Error("the unexpired user revocation was forgotten")
	}
}

func TestSyncOverlapIsIdempotent(t *testing.T) {
	clk := &clock{t: t0}
	v := NewRevocationView(clk.now)
	src := &memSource{}
	src.add(ciphemic.Revocation{UserID: 7, ValidAfter: t0, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0})
	mustSync(t, v, src)
	if !v.LastSync().Equal(t0) {
		t.Errorf("LastSync = %v, want %v", v.LastSync(), t0)
	}
	// Committed late: created before the last Sync started, visible only now.
	src.add(ciphemic.Revocation{JTI: "late", ExpiresAt: t0.Add(time.Hour), CreatedAt: t0.Add(-3 * time.Second)})
	clk.set(t0.Add(2 * time.Second))
	mustSync(t, v, src)
	mustSync(t, v, src)
	wantSince := []time.Time{{}, t0.Add(-syncOverlap), t0.Add(2*time.Second - syncOverlap)}
	for i, since := range src.sinces {
		if !since.Equal(wantSince[i]) {
			t.Errorf("Sync %d asked since %v, want %v", i, since, wantSince[i])
		}
	}
	if !v.Revoked(accessClaims("late", 1, t0)) {
		t.Error("a revocation committed late was missed despite the overlap")
	}
	if len(v.jtis) != 1 || len(v.users) != 1 || !v.users[7].validAfter.Equal(t0.Truncate(time.Millisecond)) {
		t.Errorf("re-reading changed the view: jtis %v users %v", v.jtis, v.users)
	}
}

func TestSyncErrorKeepsState(t *testing.T) {
	clk := &clock{t: t0}
	v := NewRevocationView(clk.now)
	src := &memSource{}
	src.add(ciphemic.Revocation{JTI: "aaa", ExpiresAt: t0.Add(time.Minute), CreatedAt: t0})
	mustSync(t, v, src)
	src.err = errors.New("database is down")
	clk.set(t0.Add(2 * time.Minute)) // "aaa" has expired, but a failed Sync must not GC either
	if err := v.Sync(context.Background(), src); err == nil {
		t.Fatal("Sync(failing source) = nil error, want one")
	}
	if !v.LastSync().Equal(t0) {
		t.Errorf("LastSync after a failed Sync = %v, want %v", v.LastSync(), t0)
	}
	if !v.Revoked(accessClaims("aaa", 1, t0)) {
		t.Error("a failed Sync changed the view")
	}
	src.err = nil
	mustSync(t, v, src)
	if !src.sinces[2].Equal(t0.Add(-syncOverlap)) {
		t.Errorf("Sync after a failure asked since %v, want %v (from the last success)", src.sinces[2], t0.Add(-syncOverlap))
	}
}

func TestRunSyncsUntilCancelled(t *testing.T) {
	v := NewRevocationView(fixedClock(t0))
	src := &memSource{calls: make(chan struct{}), err: errors.New("boom")}
	ctx, cancel := context.WithCancel(context.Background())
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	done := make(chan struct{})
	go func() { v.Run(ctx, src, time.Millisecond, log); close(done) }()
	<-src.calls
	<-src.calls
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()
	// A call already under way may still have read the old error: keep letting syncs run
	// until one has succeeded (each receive lets the next one start).
	for !v.LastSync().Equal(t0) {
		<-src.calls
	}
	cancel()
	go func() {
		for range src.calls { // let a Sync in flight finish
		}
	}()
	<-done
	close(src.calls)
	if !v.LastSync().Equal(t0) {
		t.Errorf("LastSync = %v, want %v", v.LastSync(), t0)
	}
	if !strings.Contains(logs.String(), "revocation sync failed") {
		t.Errorf("log = %q, want the failure logged", logs.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
