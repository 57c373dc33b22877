package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestIDFromTrustedProxy: the X-Request-Id of a trusted proxy is the request's id,
// echoed and logged, so its log and ciphemic's name a request alike; a client's own, or
// one too long or holding what could forge a log line, is replaced by a new id.
func TestRequestIDFromTrustedProxy(t *testing.T) {
	proxies, err := parseTrustedProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	uuid := "3f2b8c1e-9d4a-4e7b-8a6f-1c2d3e4f5a6b"
	tests := []struct {
		name   string
		remote string
		ids    []string
		want   string // "" for a new id
	}{
		{"trusted proxy", "10.1.2.3:5000", []string{uuid}, uuid},
		{"client", "203.0.113.9:5000", []string{uuid}, ""},
		{"no header", "10.1.2.3:5000", nil, ""},
		{"empty", "10.1.2.3:5000", []string{""}, ""},
		{"too long", "10.1.2.3:5000", []string{strings.Repeat("a", maxRequestIDLen+1)}, ""},
		{"longest", "10.1.2.3:5000", []string{strings.Repeat("a", maxRequestIDLen)}, strings.Repeat("a", maxRequestIDLen)},
		{"space", "10.1.2.3:5000", []string{"a b"}, ""},
		{"newline", "10.1.2.3:5000", []string{"a\nrequest_id=forged"}, ""},
		{"non-ASCII", "10.1.2.3:5000", []string{"idé"}, ""},
		{"two values", "10.1.2.3:5000", []string{"a", "b"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := withRequestLog(slog.New(slog.NewJSONHandler(&logs, nil)), nil, nil, proxies,
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req.RemoteAddr = tt.remote
			req.Header["X-Request-Id"] = tt.ids
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			got := w.Header().Get("X-Request-Id")
			if tt.want != "" && got != tt.want {
				t.Errorf("X-Request-Id = %q, want the proxy's %q", got, tt.want)
			}
			if tt.want == "" && (len(got) != 16 || len(tt.ids) > 0 && got == tt.ids[0]) {
				t.Errorf("X-Request-Id = %q, want a new 16-character id", got)
			}
			if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
				t.Errorf("log %q lacks request_id %q", logs.String(), got)
			}
		})
	}
}
