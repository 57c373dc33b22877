package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// Brute-force protection of POST /api/token/ and POST /login/, and of the old password of
// POST /api/me/password/ (docs/LOGIN-THROTTLE.md). Two limits, both checked before any
// password hashing:
//
//   - Per username, in the store so that every instance shares it: after FreeFailures
//     consecutive failures, each further failure blocks the username for BaseDelay,
//     doubling up to MaxDelay. A success resets the count; failures are forgotten after
//     LoginFailureMemory without one. Names that exist and names that do not are counted
//     alike, so the answers never tell which users exist.
//   - Per client address, in this instance's memory: a burst of AddressFailures failures,
//     then AddressFailures per AddressWindow. It stops one address from spraying guesses
//     over many usernames; behind a load balancer each instance keeps its own count.
//
// A throttled attempt is answered 429 without being counted, so a real user retrying
// during a block never extends it. MaxDelay bounds how long one failure can lock a user
// out, and the address limit bounds how many users one address can keep blocked.

// LoginFailureMemory is how long a username's failures are remembered without a new one;
// a later failure starts the count again. flushexpiredtokens deletes older counts.
const LoginFailureMemory = 24 * time.Hour

// LoginThrottle configures the login limits. A zero field takes its value from
// DefaultLoginThrottle, so the zero LoginThrottle is the safe production default.
type LoginThrottle struct {
	// Disabled turns both limits off, for test environments that log in thousands of
	// times; never for production.
	Disabled bool
	// FreeFailures is how many consecutive failures a username has before back-off.
	FreeFailures int
	// BaseDelay is the block after the first failure past FreeFailures; each further
	// failure doubles it.
	BaseDelay time.Duration
	// MaxDelay caps the block, so that an attacker cannot lock a user out for longer.
	// Values past LoginFailureMemory/2 are lowered to it.
	MaxDelay time.Duration
	// AddressFailures failures per AddressWindow are allowed from one client address
	// (an IPv4 address, or an IPv6 /64, which one host commonly holds whole).
	AddressFailures int
	AddressWindow   time.Duration
}

// DefaultLoginThrottle returns the production limits: 5 free failures per username, then
// 1 s doubling up to 15 min; 20 failures per 10 min per address.
func DefaultLoginThrottle() LoginThrottle {
	return LoginThrottle{
		FreeFailures:    5,
		BaseDelay:       time.Second,
		MaxDelay:        15 * time.Minute,
		AddressFailures: 20,
		AddressWindow:   10 * time.Minute,
	}
}

// withDefaults fills every unset (or negative) field from DefaultLoginThrottle.
func (p LoginThrottle) withDefaults() LoginThrottle {
	d := DefaultLoginThrottle()
	if p.FreeFailures <= 0 {
		p.FreeFailures = d.FreeFailures
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	p.MaxDelay = min(p.MaxDelay, LoginFailureMemory/2)
	if p.AddressFailures <= 0 {
		p.AddressFailures = d.AddressFailures
	}
	if p.AddressWindow <= 0 {
		p.AddressWindow = d.AddressWindow
	}
	return p
}

// backoff is the block earned by a username's failures-th consecutive failure.
func (p LoginThrottle) backoff(failures int) time.Duration {
	over := failures - p.FreeFailures
	if over <= 0 {
		return 0
	}
	d := p.BaseDelay
	for i := 1; i < over && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// loginFailureStore keeps the per-username failure counts every instance shares.
type loginFailureStore interface {
	LoginBlockedUntil(ctx context.Context, username string, now time.Time) (time.Time, error)
	RecordLoginFailure(ctx context.Context, username string, now time.Time,
		forgetAfter time.Duration, backoff func(failures int) time.Duration) (time.Time, bool, error)
	ResetLoginFailures(ctx context.Context, username string) error
}

// loginGate applies both limits around a credentials check. A nil gate limits nothing.
type loginGate struct {
	policy  LoginThrottle
	store   loginFailureStore
	addrs   *addressLimiter
	proxies trustedProxies
	now     func() time.Time
}

// newLoginGate returns the gate for cfg, or nil when throttling is disabled.
func newLoginGate(cfg Config, store loginFailureStore) *loginGate {
	if cfg.LoginThrottle.Disabled {
		return nil
	}
	p := cfg.LoginThrottle.withDefaults()
	return &loginGate{
		policy:  p,
		store:   store,
		addrs:   newAddressLimiter(p.AddressFailures, p.AddressWindow),
		proxies: trustedProxies(cfg.TrustedProxies),
		now:     cfg.Now,
	}
}

// check is creds.check behind the limits (attempt). A username is counted in NFKC, the
// form logins look it up by, so that look-alike spellings of one name ("ａdmin",
// "aｄmin", …) share its count instead of each buying a fresh set of guesses at the same
// account.
func (g *loginGate) check(r *http.Request, creds credentials, typed, pw string) (ciphemic.User, string, error) {
	var (
		user     ciphemic.User
		upgraded string
	)
	err := g.attempt(r, loginName(typed), func() (err error) {
		user, upgraded, err = creds.check(r.Context(), typed, pw)
		return err
	})
	if err != nil {
		return ciphemic.User{}, "", err
	}
	return user, upgraded, nil
}

// attempt runs check, one password check as username, behind the limits: a login, or the
// old password of a password change, which counts against the same back-off, so that a
// stolen access token does not buy guesses at hashing speed. Every attempt is counted as
// a failure against its address and username before the password is checked, and
// refunded when it was right: counting after the check would let a burst of concurrent
// guesses all pass before the first failure was known. A blocked address or username is
// refused with throttledError before any hashing, and not counted. Unknown usernames
// take exactly the path existing ones take.
func (g *loginGate) attempt(r *http.Request, username string, check func() error) error {
	if g == nil {
		return check()
	}
	ctx := r.Context()
	addr := addressKey(g.proxies.clientIP(r))
	if err := g.admit(ctx, addr, username); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	g.addrs.refund(addr, g.now())
	return g.store.ResetLoginFailures(ctx, username)
}

// admit counts the attempt against addr and username, or refuses it with throttledError
// (or a store error) without counting it.
func (g *loginGate) admit(ctx context.Context, addr netip.Prefix, username string) error {
	now := g.now()
	if wait := g.addrs.take(addr, now); wait > 0 {
		return throttledError{wait}
	}
	// The read first: a flood against a blocked username then costs no write.
	until, err := g.store.LoginBlockedUntil(ctx, username, now)
	if err == nil && until.IsZero() {
		var counted bool
		until, counted, err = g.store.RecordLoginFailure(ctx, username, now, LoginFailureMemory, g.policy.backoff)
		if err == nil && counted {
			return nil
		}
	}
	g.addrs.refund(addr, now)
	if err != nil {
		return err
	}
	return throttledError{until.Sub(now)}
}
