package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store/postgres"
)

// TestSessionSettings: the session and password settings are refused with one line
// naming them, from a flag or from its CIPHEMIC_* variable.
func TestSessionSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"idle negative", nil, []string{"--session-idle-timeout", "-1s"}, "--session-idle-timeout"},
		{"idle past the refresh lifetime", nil, []string{"--session-idle-timeout", "48h"}, "--session-idle-timeout: must not exceed --refresh-token-lifetime"},
		{"idle env", map[string]string{"CIPHEMIC_SESSION_IDLE_TIMEOUT": "soon"}, nil, "CIPHEMIC_SESSION_IDLE_TIMEOUT"},
		{"max negative env", map[string]string{"CIPHEMIC_SESSION_MAX_LIFETIME": "-720h"}, nil, "--session-max-lifetime"},
		{"password length", nil, []string{"--password-min-length", "0"}, "--password-min-length"},
		{"password length env", map[string]string{"CIPHEMIC_PASSWORD_MIN_LENGTH": "eight"}, nil, "CIPHEMIC_PASSWORD_MIN_LENGTH"},
	})
}

// deleteWith sends DELETE path with a bearer token and returns the status.
func (s *server) deleteWith(t *testing.T, path, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("DELETE %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// currentSession returns the id of access's session, as GET /api/me/sessions/ marks it,
// and the number of live sessions.
func (s *server) currentSession(t *testing.T, access string) (string, int) {
	t.Helper()
	status, body := s.get(t, "/api/me/sessions/", access)
	if status != 200 {
		t.Fatalf("GET /api/me/sessions/ = %d %v", status, body)
	}
	raw, _ := json.Marshal(body)
	var page struct {
		Count   int
		Results []struct {
			ID      string
			Current bool
		}
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Results {
		if r.Current {
			return r.ID, page.Count
		}
	}
	t.Fatalf("no current session in %v", body)
	return "", 0
}

// TestSessionsAcrossInstancesOnPostgres: two serve instances on one PostgreSQL database,
// one session of the admin on each; ending the first from the second instance stops the
// first session's access token on the first instance within the sync bound (500 ms
// polling; checked loosely, as TestRevocationReachesOtherInstance) and its refresh token,
// while the second session keeps working on both. The rotated refresh token's exp is
// held to --session-max-lifetime.
func TestSessionsAcrossInstancesOnPostgres(t *testing.T) {
	dsn := postgres.OpenTestURL(t)
	args := []string{"--signing-key-file", writeSigningKey(t), "--login-throttle=false", "--session-max-lifetime", "2h"}
	a := startServerArgs(t, dsn, args...)
	b := startServerArgs(t, dsn, args...)
	pw := a.adminPW + b.adminPW // only the first start created the admin
	accessA, refreshA := mustLogin(t, a, "admin", pw)
	accessB, refreshB := mustLogin(t, b, "admin", pw)
	sidA, n := a.currentSession(t, accessA)
	if n != 2 {
		t.Fatalf("live sessions = %d, want 2", n)
	}
	if status := b.deleteWith(t, "/api/me/sessions/"+sidA+"/", accessB); status != 204 {
		t.Fatalf("DELETE session A on b = %d, want 204", status)
	}
	start := time.Now()
	for {
		if status, _ := a.get(t, "/api/me/", accessA); status == 401 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("instance A still accepts the ended session's access token after %v", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body := a.post(t, "/api/token/refresh/", `{"refresh":"`+refreshA+`"}`, ""); status != 401 {
		t.Errorf("refresh of the ended session = %d %v, want 401", status, body)
	}
	for _, s := range []*server{a, b} {
		if status, _ := s.get(t, "/api/me/", accessB); status != 200 {
			t.Errorf("session B on %s = %d, want 200", s.url, status)
		}
	}
	status, pair := a.post(t, "/api/token/refresh/", `{"refresh":"`+refreshB+`"}`, "")
	if status != 200 {
		t.Fatalf("refresh of session B = %d %v, want 200", status, pair)
	}
	if _, n := a.currentSession(t, pair["access"].(string)); n != 1 {
		t.Errorf("live sessions after ending A = %d, want 1", n)
	}
	if exp := tokenExp(t, pair["refresh"].(string)); time.Until(exp) > 2*time.Hour {
		t.Errorf("rotated refresh token expires at %v, past the 2h session lifetime", exp)
	}
}

// tokenExp reads a JWT's exp without verifying it (the server verified it).
func tokenExp(t *testing.T, raw string) time.Time {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	var claims struct{ Exp int64 }
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return time.Unix(claims.Exp, 0)
}
