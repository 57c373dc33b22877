package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// scrape is one parsed GET /metrics.
type scrape map[string]*dto.MetricFamily

// mustScrape reads /metrics from h's test server through the Prometheus text parser, so
// that what is checked is what a Prometheus server would read.
func mustScrape(t testing.TB, get func(t testing.TB, path, bearer string) response) scrape {
	t.Helper()
	r := get(t, "/metrics", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s, want 200", r.status, r.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value is the value of the series name{labels…} ("k=v" pairs): a counter's or gauge's
// value, a histogram's sample count; -1 when there is no such series.
func (s scrape) value(name string, labels ...string) float64 {
	f, ok := s[name]
	if !ok {
		return -1
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, labels []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		if have[k] != v {
			return false
		}
	}
	return true
}

// series names one series by its name and its one label ("k=v"), if any.
type series struct{ name, label string }

func (s series) String() string { return s.name + "{" + s.label + "}" }

// of is s's value in sc, as value reports it.
func (s series) of(sc scrape) float64 {
	if s.label == "" {
		return sc.value(s.name)
	}
	return sc.value(s.name, s.label)
}

var (
	loginsSuccess   = series{"ciphemic_logins_total", "outcome=success"}
	loginsBad       = series{"ciphemic_logins_total", "outcome=bad_credentials"}
	loginsInactive  = series{"ciphemic_logins_total", "outcome=inactive"}
	loginsThrottled = series{"ciphemic_logins_total", "outcome=throttled"}
	issuedAccess    = series{"ciphemic_tokens_issued_total", "type=access"}
	issuedRefresh   = series{"ciphemic_tokens_issued_total", "type=refresh"}
	refreshes       = series{"ciphemic_token_refreshes_total", ""}
	rotationsLost   = series{"ciphemic_refresh_rotations_lost_total", ""}
	reuseDetected   = series{"ciphemic_refresh_token_reuse_detected_total", ""}
	revokedAccess   = series{"ciphemic_revocations_total", "kind=access_token"}
	revokedSessions = series{"ciphemic_revocations_total", "kind=session"}
	revokedUsers    = series{"ciphemic_revocations_total", "kind=user"}
	propagation     = series{"ciphemic_revocation_propagation_delay_seconds", ""}
	hashes          = series{"ciphemic_password_hash_duration_seconds", ""}
	viewEntries     = series{"ciphemic_revocation_view_entries", ""}
	allEventSeries  = []series{loginsSuccess, loginsBad, loginsInactive, loginsThrottled, issuedAccess, issuedRefresh, refreshes, rotationsLost, reuseDetected, revokedAccess, revokedSessions, revokedUsers, propagation, hashes}
)

// metricsGrace is TestMetricsEvents' reuse grace window.
const metricsGrace = 10 * time.Second

// metricsStep checks that event moves exactly the series of want by their amounts, and
// every other event series not at all.
func metricsStep(t *testing.T, in *instance, what string, event func(), want map[series]float64) {
	t.Helper()
	before := mustScrape(t, in.get)
	event()
	after := mustScrape(t, in.get)
	for _, s := range allEventSeries {
		b, a := s.of(before), s.of(after)
		if b < 0 || a < 0 {
			t.Errorf("%s: /metrics lacks %s", what, s)
			continue
		}
		if got := a - b; got != want[s] {
			t.Errorf("%s: %s moved by %v, want %v", what, s, got, want[s])
		}
	}
}

// TestMetricsEvents: every series an operator alerts on is exported before its first
// event and moves when, and only when, its event happens.
func TestMetricsEvents(t *testing.T) {
	cfg := Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, RefreshReuseGrace: metricsGrace,
		LoginThrottle: LoginThrottle{FreeFailures: 1, BaseDelay: time.Minute, MaxDelay: time.Minute, AddressFailures: 1000}}
	in := newInstance(t, options{cfg: &cfg})
	in.mustCreateUser(t, "alice", "password", ciphemic.RoleStudent)
	in.mustCreateUserWith(t, ciphemic.User{Username: "gone", Email: "gone@example.com", Role: ciphemic.RoleStudent}, "password")
	in.mustCreateUser(t, "victim", "password", ciphemic.RoleStudent)
	loginAs := func(name, pw string, status int) func() {
		return func() {
			if r := in.postJSON(t, "/api/token/", map[string]string{"username": name, "password": pw}); r.status != status {
				t.Errorf("login %s/%s = %d %s, want %d", name, pw, r.status, r.body, status)
			}
		}
	}
	var access, refresh string
	metricsStep(t, in, "login", func() { access, refresh = in.login(t, "alice", "password") },
		map[series]float64{loginsSuccess: 1, issuedAccess: 1, issuedRefresh: 1, hashes: 1})
	metricsStep(t, in, "wrong password", loginAs("alice", "wrong", 401), map[series]float64{loginsBad: 1, hashes: 1})
	metricsStep(t, in, "unknown user", loginAs("nobody", "password", 401), map[series]float64{loginsBad: 1, hashes: 1})
	metricsStep(t, in, "inactive, right password", loginAs("gone", "password", 401), map[series]float64{loginsInactive: 1, hashes: 1})
	metricsStep(t, in, "inactive, wrong password", loginAs("gone", "wrong", 401), map[series]float64{loginsBad: 1, hashes: 1})
	metricsStep(t, in, "victim's free failure", loginAs("victim", "wrong", 401), map[series]float64{loginsBad: 1, hashes: 1})
	metricsStep(t, in, "victim's counted failure", loginAs("victim", "wrong", 401), map[series]float64{loginsBad: 1, hashes: 1})
	metricsStep(t, in, "throttled", loginAs("victim", "password", 429), map[series]float64{loginsThrottled: 1})

	metricsStep(t, in, "refresh", func() { in.mustRefresh(t, refresh) },
		map[series]float64{refreshes: 1, issuedAccess: 1, issuedRefresh: 1})
	metricsStep(t, in, "concurrent refresh's loser", func() { in.mustRefresh(t, refresh) },
		map[series]float64{refreshes: 1, rotationsLost: 1, issuedAccess: 1, issuedRefresh: 1})
	in.clock.Advance(metricsGrace + time.Second)
	metricsStep(t, in, "reuse", func() {
		wantStatusBody(t, in.refresh(t, refresh), 401, bodyBlacklisted)
	}, map[series]float64{reuseDetected: 1, revokedSessions: 1})

	access, refresh = in.login(t, "alice", "password")
	metricsStep(t, in, "logout with the access token", func() {
		r := in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": refresh}, "Authorization: Bearer "+access)
		wantStatusBody(t, r, 200, `{}`)
	}, map[series]float64{revokedAccess: 1})
	access, _ = in.login(t, "alice", "password")
	metricsStep(t, in, "revoke-all", func() {
		wantStatusBody(t, in.postJSON(t, "/api/token/revoke-all/", map[string]string{}, "Authorization: Bearer "+access), 200, `{}`)
	}, map[series]float64{revokedUsers: 1})

	// Another instance revokes victim; this one learns of it 700 ms later, on its sync.
	victim, err := in.db.UserByUsername(context.Background(), "victim")
	if err != nil {
		t.Fatal(err)
	}
	before := mustScrape(t, in.get)
	metricsStep(t, in, "a revocation from another instance", func() {
		now := in.clock.Now()
		if err := in.db.RevokeUser(context.Background(), victim.ID, now, now.Add(time.Hour)); err != nil {
			t.Fatalf("RevokeUser: %v", err)
		}
		in.clock.Advance(700 * time.Millisecond)
		if err := in.view.Sync(context.Background(), in.db); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}, map[series]float64{propagation: 1})
	after := mustScrape(t, in.get)
	if got := after[propagation.name].Metric[0].Histogram.GetSampleSum() - before[propagation.name].Metric[0].Histogram.GetSampleSum(); got < 0.69 || got > 0.71 {
		t.Errorf("propagation delay of the other instance's revocation = %vs, want 0.7s", got)
	}
	if got, want := after.value(viewEntries.name), float64(in.view.Len()); got != want || want < 3 {
		t.Errorf("%s = %v, want the view's %v entries (≥ 3)", viewEntries, got, want)
	}
	if got := after.value("ciphemic_build_info", "version=devel", "revision=unknown"); got != 1 {
		t.Errorf("ciphemic_build_info{version=devel,revision=unknown} = %v, want 1", got)
	}
}
