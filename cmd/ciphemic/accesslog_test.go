package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestServeAccessLog: serve logs one line per request, in the log format asked for, with
// the request id, route, status and duration in milliseconds, and never the query.
func TestServeAccessLog(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			s := startServer(t, "", "--log-format", format)
			if status, _ := s.get(t, "/api/me/?secret=query-value", ""); status != 401 {
				t.Fatalf("GET /api/me/ without a token = %d, want 401", status)
			}
			var line string
			for _, l := range strings.Split(s.logText(), "\n") {
				if strings.Contains(l, "request") && strings.Contains(l, "/api/me/") {
					line = l
				}
			}
			if strings.Contains(s.logText(), "query-value") {
				t.Errorf("the log holds the query string: %q", s.logText())
			}
			if format == "text" {
				for _, want := range []string{"msg=request", "route=/api/me/", "status=401", "duration_ms=", "request_id="} {
					if !strings.Contains(line, want) {
						t.Errorf("access line %q: want %s", line, want)
					}
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("access line %q is not JSON: %v", line, err)
			}
			if rec["msg"] != "request" || rec["route"] != "/api/me/" || rec["status"] != 401.0 || rec["duration_ms"] == nil || len(rec["request_id"].(string)) != 16 {
				t.Errorf("access line = %v, want msg, route, status, duration_ms and a request id", rec)
			}
		})
	}
}
