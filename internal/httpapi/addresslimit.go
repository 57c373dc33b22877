package httpapi

import (
	"net/netip"
	"sync"
	"time"
)

// maxTrackedAddresses bounds the memory of the address limiter (about 100 bytes each).
// At the cap arbitrary addresses are forgotten to make room, rather than new ones going
// untracked, so that a flood of fresh addresses cannot blind the limiter to the address
// that matters.
const maxTrackedAddresses = 100_000

// addressLimiter counts failed logins per client address in memory as a leaky bucket:
// each failure adds one, the bucket drains at limit per window, and an address whose
// next failure would overflow it is refused until it has drained enough. A failure is
// taken before the password check and refunded when the password was right, so that
// concurrent attempts cannot overrun the bucket.
type addressLimiter struct {
	mu      sync.Mutex
	limit   float64 // the bucket's size; it drains by limit per window
	window  time.Duration
	buckets map[netip.Prefix]bucket
	sweepAt int
}

// bucket is an address's failure level as of at.
type bucket struct {
	level float64
	at    time.Time
}

func newAddressLimiter(limit int, window time.Duration) *addressLimiter {
	return &addressLimiter{
		limit:   float64(limit),
		window:  window,
		buckets: make(map[netip.Prefix]bucket),
		sweepAt: 1024,
	}
}

// addressKey is the unit an address is limited by: the address itself for IPv4, its /64
// for IPv6, since one host or customer commonly holds a whole /64.
func addressKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	p, _ := a.Prefix(a.BitLen())
	return p
}

// levelAt is b drained up to now.
func (l *addressLimiter) levelAt(b bucket, now time.Time) float64 {
	return max(0, b.level-float64(now.Sub(b.at))*l.limit/float64(l.window))
}

// take adds one failure of key at now, in advance of the password check, and returns
// zero; or, when it does not fit, adds nothing and returns how long until it does.
func (l *addressLimiter) take(key netip.Prefix, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	level := l.levelAt(b, now)
	if over := level + 1 - l.limit; over > 0 {
		// Rounded to the millisecond, so that float noise never adds a second to Retry-After.
		wait := time.Duration(over * float64(l.window) / l.limit).Round(time.Millisecond)
		return max(wait, time.Millisecond)
	}
	if !ok && len(l.buckets) >= l.sweepAt {
		l.sweep(now)
	}
	l.buckets[key] = bucket{level: level + 1, at: now}
	return 0
}

// refund takes back a failure take added, for an attempt that was right or refused.
func (l *addressLimiter) refund(key netip.Prefix, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		l.buckets[key] = bucket{level: max(0, l.levelAt(b, now)-1), at: now}
	}
}

// sweep forgets drained buckets and, when that leaves the map near maxTrackedAddresses,
// arbitrary ones down to 7/8 of it. It runs only when the map has doubled since the last
// sweep, or grown by an eighth of the cap, so its cost per failure stays constant on
// average.
func (l *addressLimiter) sweep(now time.Time) {
	for key, b := range l.buckets {
		if l.levelAt(b, now) == 0 {
			delete(l.buckets, key)
		}
	}
	if len(l.buckets) >= maxTrackedAddresses*7/8 {
		for key := range l.buckets {
			if len(l.buckets) <= maxTrackedAddresses*7/8 {
				break
			}
			delete(l.buckets, key)
		}
	}
	l.sweepAt = min(max(2*len(l.buckets), 1024), maxTrackedAddresses)
}
