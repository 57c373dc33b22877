package httpapi

import (
	"errors"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo names the running binary in ciphemic_build_info; empty fields are reported
// as "devel", "unknown" and the Go version this package was compiled with.
type BuildInfo struct {
	Version, Revision, GoVersion string
}

func (b BuildInfo) withDefaults() BuildInfo {
	if b.Version == "" {
		b.Version = "devel"
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	if b.GoVersion == "" {
		b.GoVersion = runtime.Version()
	}
	return b
}

// Login outcomes, the values of ciphemic_logins_total's one label. Errors that decide
// nothing about the credentials (the store down) are not logins and are not counted.
const (
	loginSuccess        = "success"
	loginBadCredentials = "bad_credentials"
	loginInactive       = "inactive"
	loginThrottled      = "throttled"
)

// Revocation kinds, the values of ciphemic_revocations_total's one label: what a
// revocation ends.
const (
	revokedAccessToken = "access_token"
	revokedSession     = "session"
	revokedUser        = "user"
)

// events are the counters of the security events an operator alerts on. Every label value
// is one of the constants above, so that no user, token or path can become a series; the
// children are resolved once, so that counting an event is one atomic add.
type events struct {
	logins        map[string]prometheus.Counter // by login outcome
	accessIssued  prometheus.Counter
	refreshIssued prometheus.Counter
	refreshes     prometheus.Counter
	rotationsLost prometheus.Counter
	reuse         prometheus.Counter
	revocations   map[string]prometheus.Counter // by revocation kind
	propagation   prometheus.Histogram
	hashDuration  prometheus.Histogram
}

// newEvents creates the event series and registers them on reg.
func newEvents(reg *prometheus.Registry, build BuildInfo) *events {
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ciphemic_logins_total",
		Help: "Logins (POST /api/token/ and /login/) by outcome: success, bad_credentials, inactive (right password, inactive account), throttled.",
	}, []string{"outcome"})
	issued := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ciphemic_tokens_issued_total",
		Help: "Tokens signed and handed out, by type (access or refresh).",
	}, []string{"type"})
	revocations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ciphemic_revocations_total",
		Help: "Revocations made by this instance, by what they end: access_token (logout), session (a rotation family), user (every token of a user).",
	}, []string{"kind"})
	e := &events{
		logins:        children(logins, loginSuccess, loginBadCredentials, loginInactive, loginThrottled),
		accessIssued:  issued.WithLabelValues("access"),
		refreshIssued: issued.WithLabelValues("refresh"),
		refreshes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ciphemic_token_refreshes_total",
			Help: "Successful refreshes (POST /api/token/refresh/).",
		}),
		rotationsLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ciphemic_refresh_rotations_lost_total",
			Help: "Refreshes whose token a concurrent refresh had just rotated, answered from the reuse grace window.",
		}),
		reuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ciphemic_refresh_token_reuse_detected_total",
			Help: "Spent refresh tokens presented again: each revoked its whole session (a stolen token, or a client that does not serialise its refreshes).",
		}),
		revocations: children(revocations, revokedAccessToken, revokedSession, revokedUser),
		propagation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ciphemic_revocation_propagation_delay_seconds",
			Help:    "How long after another instance made it each revocation reached this one's revocation view, at its sync with the store.",
			Buckets: []float64{.01, .05, .1, .25, .5, .75, 1, 1.5, 2, 5, 10, 30},
		}),
		hashDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ciphemic_password_hash_duration_seconds",
			Help:    "Time of each password hash or verification, waiting for a hashing slot included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ciphemic_build_info",
		Help: "Always 1; its labels name the running binary.",
	}, []string{"version", "revision", "goversion"})
	build = build.withDefaults()
	buildInfo.WithLabelValues(build.Version, build.Revision, build.GoVersion).Set(1)
	reg.MustRegister(logins, issued, revocations, e.refreshes, e.rotationsLost, e.reuse,
		e.propagation, e.hashDuration, buildInfo)
	return e
}

// children resolves the children of vec for the values of its one label, so that each
// series is exported (at 0) before its first event.
func children(vec *prometheus.CounterVec, values ...string) map[string]prometheus.Counter {
	m := make(map[string]prometheus.Counter, len(values))
	for _, v := range values {
		m[v] = vec.WithLabelValues(v)
	}
	return m
}

// login counts a login that ended with err (nil: success), by its outcome.
func (e *events) login(err error) {
	if e == nil {
		return
	}
	var (
		thr  throttledError
		acct accountError
	)
	switch {
	case err == nil:
		e.logins[loginSuccess].Inc()
	case errors.As(err, &thr):
		e.logins[loginThrottled].Inc()
	case errors.As(err, &acct) && acct.inactive:
		e.logins[loginInactive].Inc()
	case errors.Is(err, errBadCredentials):
		e.logins[loginBadCredentials].Inc()
	}
}

// issued counts a token handed out: a refresh token when refresh, else an access token.
func (e *events) issued(refresh bool) {
	switch {
	case e == nil:
	case refresh:
		e.refreshIssued.Inc()
	default:
		e.accessIssued.Inc()
	}
}

// refreshed counts a successful refresh.
func (e *events) refreshed() {
	if e != nil {
		e.refreshes.Inc()
	}
}

// rotationLost counts a refresh answered from the grace window.
func (e *events) rotationLost() {
	if e != nil {
		e.rotationsLost.Inc()
	}
}

// reuseDetected counts a spent refresh token presented again, whose family was revoked.
func (e *events) reuseDetected() {
	if e != nil {
		e.reuse.Inc()
	}
}

// revoked counts a revocation of the given kind.
func (e *events) revoked(kind string) {
	if e != nil {
		e.revocations[kind].Inc()
	}
}

// revocationArrived observes the propagation delay of a revocation the view just learned
// of. A negative delay is clock skew between instances, reported as no delay.
func (e *events) revocationArrived(delay time.Duration) {
	e.propagation.Observe(max(delay, 0).Seconds())
}

// hashed observes the time of one password hash or verification.
func (e *events) hashed(d time.Duration) {
	e.hashDuration.Observe(d.Seconds())
}
