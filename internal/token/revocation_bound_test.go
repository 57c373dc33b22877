package token

import (
	"context"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestRevocationViewBound: a view never holds more than its bound; a revocation that
// does not fit is not dropped silently but marks the view full (callers fail closed),
// and the view reads everything again until, once expired entries have left, it all
// fits.
func TestRevocationViewBound(t *testing.T) {
	clock := t0
	v := NewRevocationView(func() time.Time { return clock })
	v.SetMax(3)
	src := &memSource{}
	for i, exp := range []time.Duration{time.Minute, time.Minute, 10 * time.Minute, 10 * time.Minute} {
		src.add(ciphemic.Revocation{JTI: "jti-" + string(rune('a'+i)), UserID: 1, ExpiresAt: t0.Add(exp), CreatedAt: t0})
	}
	if err := v.Sync(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	v.mu.RLock()
	size := v.size()
	v.mu.RUnlock()
	if size > 3 || !v.Full() {
		t.Fatalf("view of bound 3 after 4 revocations holds %d, Full() = %v; want at most 3 and full", size, v.Full())
	}
	clock = t0.Add(2 * time.Minute) // two entries have expired: the rest fits
	if err := v.Sync(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if v.Full() {
		t.Error("Full() after the expired entries left and a full re-read fitted, want false")
	}
	for _, jti := range []string{"jti-c", "jti-d"} {
		if !v.Revoked(Claims{JTI: jti, UserID: 1}) {
			t.Errorf("Revoked(%s) after the re-read = false, want true", jti)
		}
	}
	if got := src.sinces[len(src.sinces)-1]; !got.IsZero() {
		t.Errorf("the Sync of a full view read since %v, want everything (the zero time)", got)
	}
}
