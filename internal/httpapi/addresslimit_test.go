package httpapi

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// nthAddress returns a distinct IPv4 key for each i.
func nthAddress(i int) netip.Prefix {
	return addressKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
}

func TestAddressKey(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"203.0.113.7", "203.0.113.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"::ffff:203.0.113.7", "203.0.113.7/32"},
	}
	for _, tt := range tests {
		if got := addressKey(netip.MustParseAddr(tt.addr)); got.String() != tt.want {
			t.Errorf("addressKey(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if got := addressKey(netip.Addr{}); got.IsValid() {
		t.Errorf("addressKey(zero) = %v, want the zero prefix", got)
	}
}

// TestAddressLimiterForgetsDrained: a steady stream of new addresses, each failing once,
// keeps the map near the number of addresses not yet drained, not the number ever seen.
func TestAddressLimiterForgetsDrained(t *testing.T) {
	const perMinute, minutes = 1000, 50
	l := newAddressLimiter(3, time.Minute)
	now := time.Unix(1_000_000, 0)
	most := 0
	for m := range minutes {
		for i := range perMinute {
			l.take(nthAddress(m*perMinute+i), now)
			most = max(most, len(l.buckets))
		}
		now = now.Add(time.Minute)
	}
	if most > 4*perMinute {
		t.Errorf("%d addresses over %d minutes: the limiter tracked up to %d at once, want at most %d",
			perMinute*minutes, minutes, most, 4*perMinute)
	}
}

// TestAddressLimiterBounded: a flood of fresh addresses never grows the map past the cap,
// and the newest address is still tracked.
func TestAddressLimiterBounded(t *testing.T) {
	l := newAddressLimiter(1, time.Hour)
	now := time.Unix(1_000_000, 0)
	n := maxTrackedAddresses + maxTrackedAddresses/2
	for i := range n {
		l.take(nthAddress(i), now)
		if len(l.buckets) > maxTrackedAddresses {
			t.Fatalf("after %d addresses the limiter tracks %d, want at most %d", i+1, len(l.buckets), maxTrackedAddresses)
		}
	}
	if l.take(nthAddress(n-1), now) == 0 {
		t.Errorf("take(newest address) again = 0, want it still limited")
	}
}

// TestAddressLimiterRefund: a refunded failure frees its slot at once; a refund for an
// address never seen changes nothing.
func TestAddressLimiterRefund(t *testing.T) {
	l := newAddressLimiter(2, time.Hour)
	now := time.Unix(1_000_000, 0)
	a := nthAddress(1)
	got := []time.Duration{l.take(a, now), l.take(a, now), l.take(a, now)}
	l.refund(a, now)
	l.refund(nthAddress(2), now)
	got = append(got, l.take(a, now), l.take(a, now))
	want := []time.Duration{0, 0, 30 * time.Minute, 0, 30 * time.Minute}
	if !slices.Equal(got, want) {
		t.Errorf("take, take, take, refund, take, take = %v, want %v", got, want)
	}
	if _, ok := l.buckets[nthAddress(2)]; ok {
		t.Errorf("refund of an unseen address added it")
	}
}
