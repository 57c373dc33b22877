package password

import (
	"sync"
	"testing"
	"time"
)

// TestObserver: every Hash, Verify and VerifyDummy is observed exactly once, an unusable
// Django password (which verifies the dummy inside) included, and nil stops observing.
func TestObserver(t *testing.T) {
	h := NewHasher(cheapParams)
	var (
		mu    sync.Mutex
		count int
	)
	h.SetObserver(func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("observed %v, want a duration ≥ 0", d)
		}
		count++
	})
	hash, err := h.Hash("secret")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = h.Verify(hash, "secret")
	_, _, _ = h.Verify("!unusable", "secret")
	h.VerifyDummy("secret")
	if count != 4 {
		t.Errorf("observed %d calls of Hash, Verify, Verify(unusable), VerifyDummy, want 4", count)
	}
	h.SetObserver(nil)
	h.VerifyDummy("secret")
	if count != 4 {
		t.Errorf("observed %d calls after SetObserver(nil), want still 4", count)
	}
}
