package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ciphemic/ciphemic/internal/token"
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
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesPair struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(view *token.RevocationView, now func() time.Time) *metrics {
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
	revocationAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ciphemic_revocation_view_age_seconds",
		Help: "Seconds since the revocation view last synced with the store; protected routes fail closed past their bound.",
	}, func() float64 { return now().Sub(view.LastSync()).Seconds() })
	m.registry.MustRegister(m.requests, m.duration, revocationAge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
// timings only, never user data; operators who do not want it public block the path at
// their proxy.
func handleMetrics(m *metrics) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
