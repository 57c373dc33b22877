package token

import (
	"slices"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestRevocationObserver: the observer hears each revocation once, when the view first
// learns of it, with how long after its CreatedAt that was; the overlap's re-reads and a
// user revocation that moves nothing forward are not news. Len counts every entry.
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
		ciphemic.Revocation{JTI: "remote", ExpiresAt: until, CreatedAt: t0.Add(-300 * time.Millisecond)},
		ciphemic.Revocation{FamilyID: "sid", ExpiresAt: until, CreatedAt: t0.Add(-time.Second)},
		ciphemic.Revocation{UserID: 7, ValidAfter: t0.Add(-2 * time.Second), ExpiresAt: until, CreatedAt: t0.Add(-2 * time.Second)},
	)
	mustSync(t, v, src)
	want := []time.Duration{0, 300 * time.Millisecond, time.Second, 2 * time.Second}
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

	// A later revocation of the same user is news.
	v.Apply(ciphemic.Revocation{UserID: 7, ValidAfter: t0.Add(time.Second), ExpiresAt: until, CreatedAt: t0.Add(500 * time.Millisecond)})
	if got := delays[len(delays)-1]; len(delays) != 5 || got != 500*time.Millisecond {
		t.Errorf("delays after a newer user revocation = %v, want a fifth of 500ms", delays)
	}
	if n := v.Len(); n != 4 {
		t.Errorf("Len() = %d, want 4", n)
	}
}
