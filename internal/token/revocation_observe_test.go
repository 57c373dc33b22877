package token

import (
	"slices"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestRevocationObserver: the observer hears each revocation a Sync brings once, when the
// view first learns of it, with how long after its CreatedAt that was; the overlap's
// re-reads, a user revocation that moves nothing forward and the instance's own
// revocations (Apply) are not news. Len counts every entry.
func TestRevocationObserver(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	v := NewRevocationView(c.now)
	var delays []time.Duration
	v.SetObserver(func(d time.Duration) { delays = append(delays, d) })
	until := t0.Add(time.Hour)

	v.Apply(ciphemic.Revocation{JTI: "local", ExpiresAt: until, CreatedAt: t0})
	src := &memSource{}
	src.add(
		ciphemic.Revocation{JTI: "local", ExpiresAt: until, CreatedAt: t0},
		ciphemic.Revocation{JTI: "remote", ExpiresAt: until, CreatedAt: t0.Add(-300 * time.Millisecond)},
		ciphemic.Revocation{FamilyID: "sid", ExpiresAt: until, CreatedAt: t0.Add(-time.Second)},
		ciphemic.Revocation{UserID: 7, ValidAfter: t0.Add(-2 * time.Second), ExpiresAt: until, CreatedAt: t0.Add(-2 * time.Second)},
	)
	mustSync(t, v, src)
	want := []time.Duration{300 * time.Millisecond, time.Second, 2 * time.Second}
	if !slices.Equal(delays, want) {
		t.Fatalf("delays after first sync = %v, want %v", delays, want)
	}
	if n := v.Len(); n != 4 {
		t.Errorf("Len() = %d, want 4", n)
	}

	// The overlap re-reads all three, and an older revocation of user 7 moves nothing.
	c.set(t0.Add(time.Second))
	v.Apply(ciphemic.Revocation{UserID: 7, ValidAfter: t0.Add(-time.Minute), ExpiresAt: until, CreatedAt: t0.Add(-time.Minute)})
	mustSync(t, v, src)
	if !slices.Equal(delays, want) {
		t.Fatalf("delays after re-reads = %v, want %v (no news)", delays, want)
	}

	// A later revocation of the same user, by another instance, is news.
	src.add(ciphemic.Revocation{UserID: 7, ValidAfter: t0.Add(time.Second), ExpiresAt: until, CreatedAt: t0.Add(500 * time.Millisecond)})
	mustSync(t, v, src)
	if got := delays[len(delays)-1]; len(delays) != 4 || got != 500*time.Millisecond {
		t.Errorf("delays after a newer user revocation = %v, want a fourth of 500ms", delays)
	}
	if n := v.Len(); n != 4 {
		t.Errorf("Len() = %d, want 4", n)
	}
}
