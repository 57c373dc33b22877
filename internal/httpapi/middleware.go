package httpapi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// requestState is what the chain keeps of one request, in one allocation: the recorder
// of its status and size, its id, the route that took it (known only inside the mux),
// and the logger that carries its id, made only when a handler asks for one.
type requestState struct {
	statusRecorder
	// id is the request's id, kept as the one value of its X-Request-Id response header
	// so that the header costs no allocation of its own.
	id     [1]string
	route  string
	base   *slog.Logger
	logger atomic.Pointer[slog.Logger]
	// principal is who authenticated the request, once authenticated is set (authenticate.go).
	principal     ciphemic.Principal
	authenticated bool
}

type requestStateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	s, _ := ctx.Value(requestStateKey{}).(*requestState)
	return s
}

// requestIDFrom returns the id withRequestLog gave the request (its X-Request-Id), or ""
// outside it; the audit trail records it beside each event.
func requestIDFrom(ctx context.Context) string {
	if s := stateFrom(ctx); s != nil {
		return s.id[0]
	}
	return ""
}

// loggerFrom returns the request's logger, which carries its request id. It is made on
// first use: most requests log nothing but their access line, which needs none.
func loggerFrom(ctx context.Context) *slog.Logger {
	s := stateFrom(ctx)
	if s == nil {
		return slog.Default()
	}
	if l := s.logger.Load(); l != nil {
		return l
	}
	l := s.base.With(slog.String("request_id", s.id[0]))
	s.logger.Store(l)
	return l
}

// statusRecorder remembers the status and size of a response for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withRequestLog gives every request an id (echoed as X-Request-Id), counts it in the
// metrics and logs one line for it. The id is the X-Request-Id a trusted proxy sent, so
// that the proxy's log and this one name a request alike, or a new one (requestIDOf). Only the method, path, status, size and duration are
// logged: never headers, query strings or bodies, where tokens and passwords travel. It
// runs on every request, so it allocates only its requestState and the id: the logger
// writes through a buffer (cmd/ciphemic's logWriter), not a system call per line.
func withRequestLog(log *slog.Logger, access *accessLog, m *metrics, proxies trustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{statusRecorder: statusRecorder{ResponseWriter: w}, route: routeUnmatched, base: log}
		st.id[0] = requestIDOf(r, proxies)
		w.Header()["X-Request-Id"] = st.id[:]
		r = r.WithContext(context.WithValue(r.Context(), requestStateKey{}, st))
		next.ServeHTTP(&st.statusRecorder, r)
		end := time.Now() // one clock read for the duration and the line's time
		elapsed := end.Sub(start)
		if m != nil {
			m.observe(st.route, r.Method, st.status, elapsed)
		}
		if access != nil {
			access.write(accessEntry{at: end, requestID: st.id[0], method: r.Method, route: st.route,
				path: r.URL.Path, remote: r.RemoteAddr, status: st.status, bytes: st.bytes, elapsed: elapsed})
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", st.id[0]),
			slog.String("method", r.Method),
			slog.String("route", st.route),
			slog.String("path", r.URL.Path),
			slog.Int("status", st.status),
			slog.Int("bytes", st.bytes),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// requestIDOf is the request's id: the X-Request-Id a trusted proxy sent, when it sent one
// that is safe to log (validRequestID), and otherwise a new one. A client's own is never
// believed, so it cannot make its requests look like another's in the log or the audit
// trail. The peer's address is parsed only when there is a header and proxies to
// believe: most requests pay one map lookup for it.
func requestIDOf(r *http.Request, proxies trustedProxies) string {
	if len(proxies) > 0 {
		if v := r.Header["X-Request-Id"]; len(v) == 1 && validRequestID(v[0]) && proxies.trusts(r) {
			return v[0]
		}
	}
	return newRequestID()
}

// maxRequestIDLen bounds a proxy's id: a UUID is 36 bytes, and the id is in every line.
const maxRequestIDLen = 128

// validRequestID accepts 1 to maxRequestIDLen printable ASCII characters, no spaces: nothing
// that could end or forge a log line, or hide in one.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random hex characters, the id of a request no trusted proxy
// named. It needs
// to be unique, not secret, so it comes from math/rand/v2's per-thread ChaCha8 rather
// than a getrandom(2) call per request.
func newRequestID() string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], mrand.Uint64()) // #nosec G404 -- a request id must be unique, not secret (see above)
	var h [16]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// withRecover turns a panic into the contract's 500, logged with the request id and stack.
func withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				loggerFrom(r.Context()).Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				encode(w, r, http.StatusInternalServerError, detailBody{msgServerError})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// The values of withSecurityHeaders.
var (
	nosniff    = []string{"nosniff"}
	frameDeny  = []string{"DENY"}
	sameOrigin = []string{"same-origin"}
	noStore    = []string{"no-store"}
	hstsValue  = []string{"max-age=31536000; includeSubDomains"}
)

// withSecurityHeaders sets the headers every response carries. Responses hold tokens or
// personal data, so nothing may be cached unless a handler says otherwise (JWKS).
func withSecurityHeaders(hsts bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The keys are canonical and the value slices are shared, never appended to (Set
		// replaces a slice, Add copies it): no allocation per request for fixed headers.
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = frameDeny
		h["Referrer-Policy"] = sameOrigin
		h["Cache-Control"] = noStore
		if hsts {
			h["Strict-Transport-Security"] = hstsValue
		}
		next.ServeHTTP(w, r)
	})
}

// withBodyLimit refuses bodies over limit: at once when Content-Length says so, and while
// reading otherwise (http.MaxBytesReader), so a handler never holds more than limit bytes.
func withBodyLimit(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeError(w, r, errBodyTooLarge)
			return
		}
		if r.Body != http.NoBody { // a GET's: nothing to read, nothing to bound
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}
