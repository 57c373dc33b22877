package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routeUnmatched labels requests no route took (404s), so that scanners probing random
// paths cannot create a label value per path.
const routeUnmatched = "unmatched"

// labelRoute records which route (its path pattern, as routes.go names it) serves r.
func labelRoute(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateFrom(r.Context()); st != nil {
			st.route = path
		}
		next.ServeHTTP(w, r)
	})
}

// metrics are the Prometheus series of one server, on a registry of its own (no global
// state, so two servers in one test process do not collide).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series caches the children of requests and duration by their labels: looking them
	// up in the vectors hashes the label values and formats the status on every request.
	series sync.Map // seriesKey → *seriesPair
	// events counts what the handlers do (eventmetrics.go).
	events *events
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesPair struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// newMetrics creates the server's registry and series. It makes deps' revocation view
// and password hasher report to them, and registers deps.Metrics beside them.
func newMetrics(cfg Config, deps Deps) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ciphemic_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ciphemic_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	view, now := deps.Revocations, cfg.Now
	revocationAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ciphemic_revocation_view_age_seconds",
		Help: "Seconds since the revocation view last synced with the store; protected routes fail closed past their bound.",
	}, func() float64 { return now().Sub(view.LastSync()).Seconds() })
	revocationEntries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ciphemic_revocation_view_entries",
		Help: "Revoked access tokens, sessions and users the revocation view holds; past its bound (--revocation-view-max) protected routes fail closed.",
	}, func() float64 { return float64(view.Len()) })
	m.registry.MustRegister(m.requests, m.duration, revocationAge, revocationEntries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(deps.Metrics...)
	m.events = newEvents(m.registry, cfg.Build)
	view.SetObserver(m.events.revocationArrived)
	if deps.Passwords != nil {
		deps.Passwords.SetObserver(m.events.hashed)
	}
	return m
}

// observe counts one finished request. Methods outside the standard set are folded into
// one label value, for the same cardinality reason as routeUnmatched.
func (m *metrics) observe(route, method string, status int, elapsed time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	key := seriesKey{route: route, method: method, status: status}
	p, ok := m.series.Load(key)
	if !ok {
		p, _ = m.series.LoadOrStore(key, &seriesPair{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route, method),
		})
	}
	pair := p.(*seriesPair)
	pair.requests.Inc()
	pair.duration.Observe(elapsed.Seconds())
}

// handleMetrics serves GET /metrics in the Prometheus text format. It holds counts and
// timings only, never user data; on the API's own listener only when
// Config.PrivateMetrics is unset (cmd/ciphemic's --public-metrics).
func handleMetrics(m *metrics) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
