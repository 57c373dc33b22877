package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPanicIsGeneric500: a panic answers the contract's generic 500, and the details go to
// the log with the request id, never to the client.
func TestPanicIsGeneric500(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := withRequestLog(log, nil, nil, nil, withRecover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	if w.Code != 500 || w.Body.String() != `{"detail":"A server error occurred."}` {
		t.Errorf("panic answered %d %s, want 500 generic", w.Code, w.Body)
	}
	id := w.Header().Get("X-Request-Id")
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), "request_id="+id) {
		t.Errorf("log %q lacks the panic or request id %s", logs.String(), id)
	}
}

// TestRequestLogOmitsSecrets: the access log never records the Authorization header, the
// query string or the body.
func TestRequestLogOmitsSecrets(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := withRequestLog(log, nil, nil, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}))
	req := httptest.NewRequest(http.MethodPost, "/api/token/?token=querysecret", strings.NewReader(`{"password":"bodysecret"}`))
	req.Header.Set("Authorization", "Bearer headersecret")
	h.ServeHTTP(httptest.NewRecorder(), req)
	for _, secret := range []string{"querysecret", "bodysecret", "headersecret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("access log %q contains %s", logs.String(), secret)
		}
	}
}

// TestInternalErrorIsGeneric: an unexpected store error becomes the generic 500.
func TestInternalErrorIsGeneric(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	writeError(w, r, errSentinelForTest)
	if w.Code != 500 || w.Body.String() != `{"detail":"A server error occurred."}` {
		t.Errorf("internal error answered %d %s, want 500 generic", w.Code, w.Body)
	}
}

var errSentinelForTest = &testErr{"pq: relation users does not exist at 10.0.0.5"}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }
