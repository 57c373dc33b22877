package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// throttled returns an instance with the login throttle p (zero fields: production
// defaults) that believes X-Forwarded-For from the test client when trustProxy is set.
func throttled(t *testing.T, p LoginThrottle, trustProxy bool, opts options) *instance {
	t.Helper()
	cfg := Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, LoginThrottle: p}
	if trustProxy {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	opts.cfg = &cfg
	return newInstance(t, opts)
}

// attempt posts a login, from client address from (sent as X-Forwarded-For) when set, and
// returns its status with the Retry-After of a 429: "401", "429 2s".
func (in *instance) attempt(t *testing.T, username, pw, from string) string {
	t.Helper()
	var headers []string
	if from != "" {
		headers = append(headers, "X-Forwarded-For: "+from)
	}
	r := in.postJSON(t, "/api/token/", map[string]string{"username": username, "password": pw}, headers...)
	if r.status == http.StatusTooManyRequests {
		return fmt.Sprintf("429 %ss", r.header.Get("Retry-After"))
	}
	return fmt.Sprint(r.status)
}

// wantAttempts fails t unless the attempts gave want, in order.
func wantAttempts(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// fewFree is a small policy: 2 free failures, then 1 s doubling up to 8 s, and an address
// limit too high to matter.
var fewFree = LoginThrottle{FreeFailures: 2, BaseDelay: time.Second, MaxDelay: 8 * time.Second, AddressFailures: 1000}

func TestLoginBackoffPolicy(t *testing.T) {
	p := LoginThrottle{}.withDefaults()
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {5, 0}, {6, time.Second}, {7, 2 * time.Second}, {8, 4 * time.Second},
		{15, 512 * time.Second}, {16, 15 * time.Minute}, {17, 15 * time.Minute}, {1 << 30, 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := p.backoff(tt.failures); got != tt.want {
			t.Errorf("default backoff(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
	if got := (LoginThrottle{MaxDelay: 100 * time.Hour}).withDefaults().MaxDelay; got != LoginFailureMemory/2 {
		t.Errorf("MaxDelay 100h withDefaults = %v, want it lowered to %v", got, LoginFailureMemory/2)
	}
}

// TestLoginBackoffGrowsAndCaps: past the free failures each failure doubles the block up
// to the cap; the answer during a block is 429 with the time left, and waiting it out
// allows exactly one more try.
func TestLoginBackoffGrowsAndCaps(t *testing.T) {
	in := throttled(t, fewFree, false, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	var got []string
	for range 2 {
		got = append(got, in.attempt(t, "alice", "wrong", ""))
	}
	for _, block := range []time.Duration{1, 2, 4, 8, 8, 8} {
		got = append(got, in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "wrong", ""))
		in.clock.Advance(block*time.Second - time.Millisecond)
		got = append(got, in.attempt(t, "alice", "wrong", ""))
		in.clock.Advance(time.Millisecond)
	}
	want := []string{"401", "401",
		"401", "429 1s", "429 1s",
		"401", "429 2s", "429 1s",
		"401", "429 4s", "429 1s",
		"401", "429 8s", "429 1s",
		"401", "429 8s", "429 1s",
		"401", "429 8s", "429 1s",
	}
	wantAttempts(t, "failures in a row", got, want)
}

// TestLoginThrottledDoesNotExtend: attempts during a block, even with the right password,
// are refused without being counted, so the block ends when it said it would, and a
// success then resets the count.
func TestLoginThrottledDoesNotExtend(t *testing.T) {
	in := throttled(t, fewFree, false, options{})
	u := in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	for range 3 {
		in.attempt(t, "alice", "wrong", "") // the 3rd earns a 1 s block
	}
	in.clock.Advance(time.Second)
	in.attempt(t, "alice", "wrong", "") // 2 s
	in.clock.Advance(2 * time.Second)
	in.attempt(t, "alice", "wrong", "") // 4 s
	var got []string
	for range 3 {
		got = append(got, in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "password", ""))
		in.clock.Advance(time.Second)
	}
	wantAttempts(t, "attempts during a 4 s block", got, []string{"429 4s", "429 4s", "429 3s", "429 3s", "429 2s", "429 2s"})
	if got, _ := in.db.User(t.Context(), u.ID); !got.LastLogin.IsZero() {
		t.Errorf("LastLogin after throttled right passwords = %v, want none", got.LastLogin)
	}
	in.clock.Advance(time.Second)
	if got := in.attempt(t, "alice", "password", ""); got != "200" {
		t.Fatalf("right password when the block ends = %s, want 200", got)
	}
	got = nil
	for range 3 {
		got = append(got, in.attempt(t, "alice", "wrong", ""))
	}
	wantAttempts(t, "failures after a success", got, []string{"401", "401", "401"})
	wantAttempts(t, "next attempt", []string{in.attempt(t, "alice", "password", "")}, []string{"429 1s"})
}

// TestLoginSuccessResets: a success before the back-off starts gives the free failures back.
func TestLoginSuccessResets(t *testing.T) {
	in := throttled(t, fewFree, false, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	var got []string
	for range 3 {
		got = append(got, in.attempt(t, "alice", "wrong", ""), in.attempt(t, "alice", "wrong", ""),
			in.attempt(t, "alice", "password", ""))
	}
	wantAttempts(t, "two failures then a success, three times", got,
		[]string{"401", "401", "200", "401", "401", "200", "401", "401", "200"})
}

// TestLoginUnknownUsersAlike: unknown, inactive and existing usernames get the very same
// sequence of answers, so throttling never tells which users exist.
func TestLoginUnknownUsersAlike(t *testing.T) {
	sequence := func(username string) []string {
		in := throttled(t, fewFree, false, options{})
		in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
		in.mustCreateUserWith(t, ciphemic.User{Username: "gone", Role: ciphemic.RoleStudent}, "password")
		var got []string
		for i := range 12 {
			got = append(got, in.attempt(t, username, "wrong", ""))
			in.clock.Advance(time.Duration(i%4) * time.Second)
		}
		return got
	}
	want := sequence("alice")
	if !slices.Contains(want, "429 1s") {
		t.Fatalf("sequence for alice = %q, want it throttled", want)
	}
	for _, name := range []string{"ghost", "gone"} {
		wantAttempts(t, "sequence for "+name, sequence(name), want)
	}
}

// TestLoginThrottleByUsernameAcrossAddresses: another address does not escape the
// username's block, and the block does not spill onto other usernames.
func TestLoginThrottleByUsernameAcrossAddresses(t *testing.T) {
	in := throttled(t, fewFree, true, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	in.mustCreateUser(t, "bob", "password", ciphemic.RoleStudent)
	for range 3 {
		in.attempt(t, "alice", "wrong", "203.0.113.1")
	}
	got := []string{
		in.attempt(t, "alice", "password", "198.51.100.7"),
		in.attempt(t, "alice", "password", "2001:db8::1"),
		in.attempt(t, "bob", "password", "203.0.113.1"),
	}
	wantAttempts(t, "alice from elsewhere, bob from the same address", got, []string{"429 1s", "429 1s", "200"})
}

// TestLoginThrottleLookalikes: failures under look-alike spellings of a username count
// against the one account they all log into, so varying the spelling buys no guesses.
func TestLoginThrottleLookalikes(t *testing.T) {
	in := throttled(t, fewFree, true, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	var got []string
	for _, name := range []string{"ａlice", "aｌice", "alｉce", "alice"} {
		got = append(got, in.attempt(t, name, "wrong", "203.0.113.1"))
	}
	got = append(got, in.attempt(t, "ａｌｉｃｅ", "password", "203.0.113.1"))
	wantAttempts(t, "three look-alikes of alice, alice, then the right password", got, []string{"401", "401", "401", "429 1s", "429 1s"})
}

// TestLoginThrottleByAddress: one address failing over many usernames is stopped, then let
// through at the window's rate; other addresses are not affected.
func TestLoginThrottleByAddress(t *testing.T) {
	p := LoginThrottle{FreeFailures: 100, AddressFailures: 5, AddressWindow: 10 * time.Minute}
	in := throttled(t, p, true, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	var got []string
	for i := range 6 {
		got = append(got, in.attempt(t, fmt.Sprintf("user%d", i), "wrong", "203.0.113.1"))
	}
	got = append(got,
		in.attempt(t, "alice", "password", "203.0.113.1"),
		in.attempt(t, "alice", "wrong", "203.0.113.2"),
		in.attempt(t, "alice", "password", "203.0.113.2"))
	wantAttempts(t, "six usernames from one address, then others", got,
		[]string{"401", "401", "401", "401", "401", "429 120s", "429 120s", "401", "200"})
	in.clock.Advance(2 * time.Minute)
	got = []string{in.attempt(t, "user9", "wrong", "203.0.113.1"), in.attempt(t, "alice", "password", "203.0.113.1")}
	wantAttempts(t, "after one slot drained", got, []string{"401", "429 120s"})
}

// TestLoginThrottleAddressCountsFailuresOnly: right passwords and attempts refused for a
// username's block do not use up the address's allowance; only failures do.
func TestLoginThrottleAddressCountsFailuresOnly(t *testing.T) {
	p := LoginThrottle{FreeFailures: 1, AddressFailures: 3, AddressWindow: time.Hour}
	in := throttled(t, p, false, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	var got []string
	for range 5 {
		got = append(got, in.attempt(t, "alice", "password", ""))
	}
	got = append(got, in.attempt(t, "bob", "wrong", ""), in.attempt(t, "bob", "wrong", "")) // bob blocked
	for range 5 {
		got = append(got, in.attempt(t, "bob", "wrong", ""))
	}
	got = append(got, in.attempt(t, "carol", "wrong", ""), in.attempt(t, "dave", "wrong", ""))
	want := []string{"200", "200", "200", "200", "200", "401", "401",
		"429 1s", "429 1s", "429 1s", "429 1s", "429 1s", "401", "429 1200s"}
	wantAttempts(t, "successes, then failures and refusals from one address", got, want)
}

// TestLoginThrottleClientAddress: X-Forwarded-For is believed only from a trusted proxy;
// from anyone else the socket address is the client. An IPv6 /64 is one client.
func TestLoginThrottleClientAddress(t *testing.T) {
	p := LoginThrottle{FreeFailures: 100, AddressFailures: 2, AddressWindow: time.Minute}
	t.Run("untrusted peer", func(t *testing.T) {
		in := throttled(t, p, false, options{})
		got := []string{
			in.attempt(t, "a", "wrong", "203.0.113.1"),
			in.attempt(t, "b", "wrong", "203.0.113.2"),
			in.attempt(t, "c", "wrong", "203.0.113.3"),
		}
		wantAttempts(t, "spoofed X-Forwarded-For from an untrusted peer", got, []string{"401", "401", "429 30s"})
	})
	t.Run("trusted proxy", func(t *testing.T) {
		in := throttled(t, p, true, options{})
		got := []string{
			in.attempt(t, "a", "wrong", "203.0.113.1"),
			in.attempt(t, "b", "wrong", "203.0.113.1"),
			in.attempt(t, "c", "wrong", "203.0.113.2"),
			in.attempt(t, "d", "wrong", "203.0.113.1"),
			in.attempt(t, "e", "wrong", "spoofed, 203.0.113.1"),
		}
		wantAttempts(t, "X-Forwarded-For through a trusted proxy", got, []string{"401", "401", "401", "429 30s", "429 30s"})
	})
	t.Run("IPv6 /64", func(t *testing.T) {
		in := throttled(t, p, true, options{})
		got := []string{
			in.attempt(t, "a", "wrong", "2001:db8::1"),
			in.attempt(t, "b", "wrong", "2001:db8::ffff:2"),
			in.attempt(t, "c", "wrong", "2001:db8::3"),
			in.attempt(t, "d", "wrong", "2001:db8:0:1::1"),
		}
		wantAttempts(t, "addresses of one /64, then of the next", got, []string{"401", "401", "429 30s", "401"})
	})
}

// TestLoginThrottleAcrossInstances: the per-username count lives in the shared database,
// so a block earned on one instance holds on another, and a success on either resets it.
func TestLoginThrottleAcrossInstances(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	a := throttled(t, fewFree, false, options{dbPath: dbPath, clock: clock})
	b := throttled(t, fewFree, false, options{dbPath: dbPath, clock: clock})
	a.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	got := []string{
		a.attempt(t, "alice", "wrong", ""),
		b.attempt(t, "alice", "wrong", ""),
		a.attempt(t, "alice", "wrong", ""),
		b.attempt(t, "alice", "password", ""),
	}
	clock.Advance(time.Second)
	got = append(got, b.attempt(t, "alice", "password", ""), a.attempt(t, "alice", "wrong", ""), a.attempt(t, "alice", "wrong", ""))
	wantAttempts(t, "alternating instances", got, []string{"401", "401", "401", "429 1s", "200", "401", "401"})
}

// TestLoginThrottleConcurrentBurst: attempts are counted as they arrive, before their
// password is checked, so of a burst of concurrent guesses no more reach the check than
// the limits allow; the rest are refused.
func TestLoginThrottleConcurrentBurst(t *testing.T) {
	const n = 24
	tests := []struct {
		name     string
		policy   LoginThrottle
		username func(i int) string
		checked  int
	}{
		{"one username", fewFree, func(int) string { return "alice" }, 3},
		{"one address", LoginThrottle{FreeFailures: 100, AddressFailures: 5, AddressWindow: time.Hour},
			func(i int) string { return fmt.Sprintf("user%d", i) }, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := throttled(t, tt.policy, false, options{})
			in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
			got := make([]string, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					got[i] = in.attempt(t, tt.username(i), "wrong", "")
				})
			}
			close(start)
			wg.Wait()
			checked := countWhere(got, func(s string) bool { return s == "401" })
			refused := countWhere(got, func(s string) bool { return strings.HasPrefix(s, "429 ") })
			if checked != tt.checked || refused != n-tt.checked {
				t.Errorf("%d concurrent bad logins = %q: %d reached the password check and %d were refused, want %d and %d",
					n, got, checked, refused, tt.checked, n-tt.checked)
			}
		})
	}
}

// countWhere is how many of ss satisfy f.
func countWhere(ss []string, f func(string) bool) int {
	n := 0
	for _, s := range ss {
		if f(s) {
			n++
		}
	}
	return n
}

// TestLoginThrottleDisabled: with the throttle off, a hundred bad logins in a row are all
// plain 401s and the right password still works.
func TestLoginThrottleDisabled(t *testing.T) {
	in := throttled(t, LoginThrottle{Disabled: true}, false, options{})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	for i := range 100 {
		if got := in.attempt(t, "alice", "wrong", ""); got != "401" {
			t.Fatalf("bad login #%d with the throttle off = %s, want 401", i+1, got)
		}
	}
	in.login(t, "alice", "password")
}

// TestLoginThrottledResponse: the 429 is DRF's Throttled, with both the detail and
// Retry-After in whole seconds rounded up, on both login paths.
func TestLoginThrottledResponse(t *testing.T) {
	in := throttled(t, LoginThrottle{FreeFailures: 1, BaseDelay: 90 * time.Second}, false, options{})
	in.postJSON(t, "/api/token/", `{"username":"alice","password":"wrong"}`)
	in.postJSON(t, "/api/token/", `{"username":"alice","password":"wrong"}`)
	in.clock.Advance(500 * time.Millisecond)
	for _, path := range []string{"/api/token/", "/login/", "/login"} {
		r := in.postJSON(t, path, `{"username":"alice","password":"wrong"}`)
		wantStatusBody(t, r, http.StatusTooManyRequests, `{"detail":"Request was throttled. Expected available in 90 seconds."}`)
		if got := r.header.Get("Retry-After"); got != "90" {
			t.Errorf("POST %s Retry-After = %q, want %q", path, got, "90")
		}
		if got := r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("POST %s Content-Type = %q, want application/json", path, got)
		}
	}
	wantStatusBody(t, in.postJSON(t, "/api/token/", `{"username":"alice"}`), 400, `{"password":["This field is required."]}`)
}

func TestThrottledErrorShape(t *testing.T) {
	tests := []struct {
		wait   time.Duration
		header string
		body   string
	}{
		{0, "1", `{"detail":"Request was throttled. Expected available in 1 second."}`},
		{time.Nanosecond, "1", `{"detail":"Request was throttled. Expected available in 1 second."}`},
		{time.Second, "1", `{"detail":"Request was throttled. Expected available in 1 second."}`},
		{time.Second + time.Nanosecond, "2", `{"detail":"Request was throttled. Expected available in 2 seconds."}`},
		{15 * time.Minute, "900", `{"detail":"Request was throttled. Expected available in 900 seconds."}`},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		writeError(w, httptest.NewRequest(http.MethodPost, "/api/token/", nil), throttledError{tt.wait})
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != tt.header || w.Body.String() != tt.body {
			t.Errorf("writeError(throttled %v) = %d Retry-After %q %s, want 429 %q %s",
				tt.wait, w.Code, w.Header().Get("Retry-After"), w.Body, tt.header, tt.body)
		}
	}
}
