package main

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAttackLoginTiming: a login for a user that does not exist takes as long as one
// with a wrong password, so response times do not tell which usernames exist (ASVS
// 2.2.1; simplejwt's /login/ answered unknown users in 5 ms and wrong passwords in
// 170 ms). Both kinds alternate, 40 of each, with the throttle off; the
// median ratio is logged, and the test fails only outside 0.5–2, a gross regression such
// as skipping the dummy hash (which measured 0.028). docs/SECURITY.md records a
// measured ratio. Timing under the race detector or -short says nothing, so it skips.
func TestAttackLoginTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement: skipped under -short")
	}
	if raceEnabled() {
		t.Skip("timing measurement: meaningless under the race detector")
	}
	s := startServer(t, "", "--login-throttle=false")
	const rounds = 40
	unknown := func(i int) string { return fmt.Sprintf(`{"username":"nosuchuser%d","password":"wrong-password"}`, i) }
	const wrong = `{"username":"admin","password":"wrong-password"}`
	for i := range 3 { // warm the connection, the caches and the allocator
		loginLatency(t, s, unknown(-i))
		loginLatency(t, s, wrong)
	}
	var unknownTimes, wrongTimes []time.Duration
	for i := range rounds {
		if i%2 == 0 { // alternate which goes first, so that neither always follows the other
			unknownTimes = append(unknownTimes, loginLatency(t, s, unknown(i)))
			wrongTimes = append(wrongTimes, loginLatency(t, s, wrong))
		} else {
			wrongTimes = append(wrongTimes, loginLatency(t, s, wrong))
			unknownTimes = append(unknownTimes, loginLatency(t, s, unknown(i)))
		}
	}
	mu, mw := median(unknownTimes), median(wrongTimes)
	ratio := float64(mu) / float64(mw)
	t.Logf("login latency medians over %d each: unknown user %v, wrong password %v; ratio %.3f (within 0.8–1.25: %v)",
		rounds, mu.Round(10*time.Microsecond), mw.Round(10*time.Microsecond), ratio, ratio >= 0.8 && ratio <= 1.25)
	if ratio < 0.5 || ratio > 2 {
		t.Errorf("unknown-user / wrong-password login latency ratio = %.3f, want within 0.5–2", ratio)
	}
}

// loginLatency times one failed login, which must be the contract's 401.
func loginLatency(t *testing.T, s *server, body string) time.Duration {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/token/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	a := send(t, req)
	elapsed := time.Since(start)
	if a.status != http.StatusUnauthorized {
		t.Fatalf("failed login = %d %s, want 401", a.status, a.body)
	}
	return elapsed
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
